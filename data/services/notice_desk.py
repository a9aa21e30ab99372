"""The workbench's notices page: a notice's receipts per household (sent, delivered, acknowledged,
called, answered, not reached) and the households not reached yet, within the viewer's part of the
community (a leader their unit, a grid worker their grid, staff the community). The chat's
「通知 N 情况」 counts with the same `household_receipts`, so the two always agree."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from core.conversation import Actor
from core.errors import NotFoundError
from data.models import (
    Grid,
    Household,
    Identity,
    Notice,
    NoticeReceipt,
    NoticeVote,
    OutboxMessage,
    Resident,
    Unit,
)
from data.services import ServiceContext
from data.services.handling import audit
from data.services.notices import get_notice, sender_name
from data.services.visibility import unit_scope

PENDING_CALLS = ("due", "dialing")  # a call still to come: not yet "not reached"


@dataclass(frozen=True)
class HouseholdReceipt:
    """Where one notice stands with one household."""

    household_id: int
    address: str
    unit: str
    channels: int  # messages sent to its bound accounts
    delivered: bool
    acknowledged_at: datetime | None
    acknowledged_via: str  # web | wechat | phone | sender …
    call_state: str  # "" | due | dialing | answered | failed | cancelled
    call_attempts: int
    called_at: datetime | None
    answered_at: datetime | None
    call_result: str  # the last call: answered | busy | no_answer | error

    @property
    def reached(self) -> bool:
        return self.delivered or self.answered_at is not None or self.acknowledged_at is not None

    @property
    def unreached(self) -> bool:
        """Not reached and no call still to come: someone should knock on the door."""
        return not self.reached and self.call_state not in PENDING_CALLS


@dataclass(frozen=True)
class NoticeSummary:
    id: int
    kind: str
    text: str
    sender: str
    created_at: datetime
    households: int  # in the viewer's part of the community
    acknowledged: int
    unreached: int


@dataclass
class NoticeReceipts:
    notice: NoticeSummary
    options: list[str]
    closes_at: datetime | None
    rows: list[HouseholdReceipt] = field(default_factory=list)
    votes: dict[int, list[str]] = field(default_factory=dict)  # a consultation: household → choices
    tally: list[tuple[str, int]] = field(default_factory=list)  # (option, votes) among these households

    def count(self, what: str) -> int:
        """How many households are delivered / acknowledged / called / answered / unreached."""
        tests = {
            "delivered": lambda r: r.delivered,
            "acknowledged": lambda r: r.acknowledged_at is not None,
            "called": lambda r: r.called_at is not None,
            "answered": lambda r: r.answered_at is not None,
            "unreached": lambda r: r.unreached,
            "sent": lambda r: r.channels > 0,
        }
        return sum(1 for r in self.rows if tests[what](r))

    @property
    def unreached(self) -> list[HouseholdReceipt]:
        return [r for r in self.rows if r.unreached]


def household_receipts(
    ctx: ServiceContext, notice: Notice, households: Collection[int] | None = None
) -> list[HouseholdReceipt]:
    """Every household's receipt for the notice (only `households`, when given), in registry order."""
    s = ctx.session
    delivered = set(
        s.scalars(
            select(Resident.household_id)
            .join(Identity, Identity.resident_id == Resident.id)
            .join(OutboxMessage, OutboxMessage.identity_id == Identity.id)
            .where(
                OutboxMessage.dedupe_key.like(f"{notice.kind}:{notice.id}:%"), OutboxMessage.status == "sent"
            )
        )
    )
    q = (
        select(NoticeReceipt, Household, Unit.name)
        .join(Household, Household.id == NoticeReceipt.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .where(NoticeReceipt.notice_id == notice.id)
        .order_by(Household.id)
    )
    if households is not None:
        q = q.where(NoticeReceipt.household_id.in_(list(households)))
    return [
        HouseholdReceipt(
            r.household_id,
            home.address,
            unit_name,
            r.channels,
            r.household_id in delivered,
            r.acknowledged_at,
            r.acknowledged_via,
            r.call_state,
            r.call_attempts,
            r.called_at,
            r.answered_at,
            r.call_result,
        )
        for r, home, unit_name in s.execute(q).all()
    ]


def _homes_in_view(actor: Actor):  # type: ignore[no-untyped-def]
    """SQL: the households in the viewer's part of the community."""
    return (
        select(Household.id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Grid, Grid.id == Unit.grid_id)
        .where(unit_scope(actor))
    )


def recent_notices(ctx: ServiceContext, actor: Actor, limit: int = 50) -> list[NoticeSummary]:
    """The latest notices and consultations that reached any household the viewer keeps."""
    s, homes = ctx.session, _homes_in_view(actor)
    in_view = NoticeReceipt.household_id.in_(homes)
    acked = func.count(NoticeReceipt.acknowledged_at)
    found = s.execute(
        select(Notice, func.count(NoticeReceipt.id), acked)
        .join(NoticeReceipt, NoticeReceipt.notice_id == Notice.id)
        .where(in_view, Notice.community_id == actor.community_id)
        .group_by(Notice.id)
        .order_by(Notice.id.desc())
        .limit(limit)
    ).all()
    mine, out = set(s.scalars(homes)), []
    for notice, households, acknowledged in found:
        rows = household_receipts(ctx, notice, mine)
        out.append(
            NoticeSummary(
                notice.id,
                notice.kind,
                notice.text,
                sender_name(ctx, notice),
                notice.created_at,
                households,
                acknowledged,
                sum(1 for r in rows if r.unreached),
            )
        )
    return out


def notice_receipts(ctx: ServiceContext, actor: Actor, notice_id: int) -> NoticeReceipts:
    """One notice's receipts for the households the viewer keeps; NotFoundError (audited) when none."""
    try:
        notice = get_notice(ctx, notice_id)
    except NotFoundError:
        notice = None
    homes = set(ctx.session.scalars(_homes_in_view(actor)))
    rows = household_receipts(ctx, notice, homes) if notice is not None else []
    if notice is None or notice.community_id != actor.community_id or not rows:
        audit(ctx, actor, "refused", f"workbench notice {notice_id}")
        raise NotFoundError(str(notice_id))
    summary = NoticeSummary(
        notice.id,
        notice.kind,
        notice.text,
        sender_name(ctx, notice),
        notice.created_at,
        len(rows),
        sum(1 for r in rows if r.acknowledged_at is not None),
        sum(1 for r in rows if r.unreached),
    )
    found = NoticeReceipts(summary, list(notice.options), notice.closes_at, rows)
    if notice.options:
        _votes(ctx, notice, found, {r.household_id for r in rows})
    return found


def _votes(ctx: ServiceContext, notice: Notice, found: NoticeReceipts, homes: set[int]) -> None:
    """A consultation's votes from these households: each household's choice and the tally."""
    labels = {str(n): label for n, label in enumerate(notice.options, start=1)}
    counts = dict.fromkeys(labels, 0)
    votes = ctx.session.scalars(
        select(NoticeVote).where(NoticeVote.notice_id == notice.id, NoticeVote.household_id.in_(homes))
    )
    for vote in votes:
        counts[vote.choice] = counts.get(vote.choice, 0) + 1
        found.votes.setdefault(vote.household_id, []).append(labels.get(vote.choice, vote.choice))
    found.tally = [(labels[c], counts[c]) for c in labels]
