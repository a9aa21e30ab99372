"""Votes in a consultation (changeable until it closes), the figures a sender asks for, and the
closing pass that sends the result to everyone asked."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, update

from core.conversation import Actor
from core.errors import PermissionDenied
from data.models import Identity, Notice, NoticeReceipt, NoticeVote, OutboxMessage, Resident
from data.services import ServiceContext
from data.services.handling import audit
from data.services.notice_desk import household_receipts
from data.services.notices import get_notice, receipt_of


class VoteClosed(PermissionDenied):
    reply_key = "notice.vote_closed"


class BadChoice(PermissionDenied):
    reply_key = "notice.vote_bad"


@dataclass
class Figures:
    notice_id: int
    kind: str
    text: str
    households: int = 0
    delivered: int = 0
    acknowledged: int = 0
    called: int = 0
    answered: int = 0
    voted: int = 0
    tally: dict[str, int] = field(default_factory=dict)  # option digit → votes
    unreached: list[str] = field(default_factory=list)  # addresses
    closed: bool = False


def cast_vote(ctx: ServiceContext, actor: Actor, notice_no: str, choice: str, via: str) -> tuple[str, bool]:
    """Record (or change) a vote; returns the option's label and whether an earlier vote was changed."""
    notice = get_notice(ctx, notice_no)
    receipt = receipt_of(ctx, notice.id, actor.household_id)
    if notice.kind != "consult" or receipt is None:
        audit(ctx, actor, "refused", f"vote on {notice.id}")
        raise PermissionDenied(notice_no)
    if notice.closed_at is not None or (notice.closes_at is not None and ctx.clock.now() >= notice.closes_at):
        raise VoteClosed(notice_no)
    if not choice.isdigit() or not 1 <= int(choice) <= len(notice.options):
        raise BadChoice(choice)
    voter = f"r{actor.resident_id}" if notice.per_resident else f"h{actor.household_id}"
    vote = ctx.session.scalar(
        select(NoticeVote).where(NoticeVote.notice_id == notice.id, NoticeVote.voter == voter)
    )
    changed = vote is not None and vote.choice != choice
    now = ctx.clock.now()
    if vote is None:
        ctx.session.add(
            NoticeVote(
                notice_id=notice.id,
                voter=voter,
                household_id=actor.household_id,
                choice=choice,
                via=via,
                at=now,
            )
        )
    else:
        vote.choice, vote.via, vote.at = choice, via, now
    if receipt.acknowledged_at is None:
        receipt.acknowledged_at, receipt.acknowledged_via = now, via
    if receipt.call_state == "due":
        receipt.call_state = "cancelled"
    ctx.session.flush()
    return str(notice.options[int(choice) - 1]), changed


def figures(ctx: ServiceContext, actor: Actor, notice_no: str) -> Figures:
    """Receipts in numbers for the sender (or community staff): who has it, who must be visited."""
    notice = get_notice(ctx, notice_no)
    if notice.sender_staff_id != actor.staff_id and not (
        actor.role == "staff" and actor.community_id == notice.community_id
    ):
        audit(ctx, actor, "refused", f"figures of notice {notice.id}")
        raise PermissionDenied(notice_no)
    return count(ctx, notice)


def count(ctx: ServiceContext, notice: Notice) -> Figures:
    s = ctx.session
    fig = Figures(notice.id, notice.kind, notice.text, closed=notice.closed_at is not None)
    for r in household_receipts(ctx, notice):
        fig.households += 1
        fig.delivered += r.delivered
        fig.acknowledged += r.acknowledged_at is not None
        fig.called += r.called_at is not None
        fig.answered += r.answered_at is not None
        if r.unreached:
            fig.unreached.append(r.address)
    votes = s.scalars(select(NoticeVote).where(NoticeVote.notice_id == notice.id)).all()
    fig.voted = len({v.household_id for v in votes})
    fig.tally = {str(n): 0 for n in range(1, len(notice.options) + 1)}
    for v in votes:
        fig.tally[v.choice] = fig.tally.get(v.choice, 0) + 1
    return fig


def pending_unreached(fig: Figures) -> int:
    """Households neither reached nor with a call still to come."""
    return len(fig.unreached)


def due_to_close(ctx: ServiceContext) -> list[Notice]:
    now = ctx.clock.now()
    return list(
        ctx.session.scalars(
            select(Notice)
            .where(Notice.kind == "consult", Notice.closed_at.is_(None), Notice.closes_at <= now)
            .order_by(Notice.id)
            .with_for_update(skip_locked=True)
        )
    )


def asked_identities(ctx: ServiceContext, notice: Notice) -> list[Identity]:
    """Every bound channel account of the households asked (not phone identities)."""
    return list(
        ctx.session.scalars(
            select(Identity)
            .join(Resident, Resident.id == Identity.resident_id)
            .join(NoticeReceipt, NoticeReceipt.household_id == Resident.household_id)
            .where(
                NoticeReceipt.notice_id == notice.id, Identity.staff_id.is_(None), Identity.channel != "phone"
            )
            .order_by(Identity.id)
        )
    )


def tally_words(ctx: ServiceContext, notice: Notice, fig: Figures) -> str:
    """「同意 5 票，不同意 2 票」."""
    return "，".join(
        ctx.words("notice.tally_item", option=label, count=str(fig.tally.get(str(n), 0)))
        for n, label in enumerate(notice.options, start=1)
    )


def close_due(ctx: ServiceContext) -> list[int]:
    """Close every consultation past its closing time; the result goes to everyone asked and the sender."""
    from data.services.outbox import notify

    closed = []
    for notice in due_to_close(ctx):
        notice.closed_at = ctx.clock.now()
        fig = count(ctx, notice)
        params = {
            "notice_no": str(notice.id),
            "text": notice.text,
            "count": str(fig.households),
            "voted": str(fig.voted),
            "tally": tally_words(ctx, notice, fig),
        }
        now = ctx.clock.now()
        for ident in asked_identities(ctx, notice):
            ctx.session.add(
                OutboxMessage(
                    dedupe_key=f"consult_result:{notice.id}:{ident.id}",
                    identity_id=ident.id,
                    channel=ident.channel,
                    kind="consult_result",
                    text_key="notice.result",
                    params=params,
                    choices=[],
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        notify(
            ctx,
            kind="consult_result",
            key="notice.result",
            params=params,
            staff_id=notice.sender_staff_id,
            event_id=notice.id,
        )
        ctx.session.execute(
            update(NoticeReceipt)
            .where(NoticeReceipt.notice_id == notice.id, NoticeReceipt.call_state == "due")
            .values(call_state="cancelled")
        )
        audit(ctx, None, "consult_closed", f"consult {notice.id}: {fig.voted}/{fig.households} voted")
        closed.append(notice.id)
    ctx.session.flush()
    return closed
