"""Notices (通知) and consultations (议事协商): who may send to whom, the sending itself (one outbox
row per bound channel account, a receipt per household, calls planned), acknowledgements and votes.

Sending is one transaction: the notice, its receipts, its outbox rows and the pushed question
(「收到请回 1」 or the options) that makes each resident's next bare digit answer it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update

from core.conversation import Actor, State
from core.errors import NotFoundError, PermissionDenied
from core.messages import Choice, Reply
from data.models import (
    Community,
    Conversation,
    Grid,
    Household,
    Identity,
    Notice,
    NoticeReceipt,
    OutboxMessage,
    Resident,
    Staff,
    Unit,
)
from data.services import ServiceContext
from data.services.handling import audit

SENDERS = ("leader", "grid", "staff")
PUSH_CHANNELS_EXCLUDED = ("phone",)  # a phone identity cannot receive a pushed message


class RateLimited(PermissionDenied):
    reply_key = "notice.rate_limited"


class OutOfScope(PermissionDenied):
    reply_key = "notice.out_of_scope"


@dataclass(frozen=True)
class Scope:
    kind: str  # unit | grid | building | community
    ref: str
    label: str


@dataclass(frozen=True)
class Sent:
    notice_id: int
    households: int
    channels: int
    calls_now: int


def require_sender(ctx: ServiceContext, actor: Actor, what: str) -> None:
    if actor.role not in SENDERS or actor.staff_id is None:
        audit(ctx, actor, "refused", f"{what}: role {actor.role}")
        raise PermissionDenied(what)


def resolve_scope(ctx: ServiceContext, actor: Actor, said: str) -> Scope:
    """The sender's own scope, or the one named (a building, a grid, the community) if it is theirs."""
    require_sender(ctx, actor, "notice")
    s, word = ctx.session, said.replace(" ", "")
    community = s.get(Community, actor.community_id)
    own = _own_scope(ctx, actor)
    if not word or word in ("本单元", "我的单元", "本网格", "我的网格"):
        return own
    if word in ("全社区", "社区", "全体", "所有人", "全部"):
        wanted = Scope("community", str(actor.community_id), community.name if community else word)
    elif word.endswith("网格"):
        digits = "".join(ch for ch in word if ch.isdigit())
        grid = s.scalar(select(Grid).where(Grid.name == f"第{digits}网格")) if digits else None
        if grid is None:
            raise OutOfScope(word)
        wanted = Scope("grid", str(grid.id), grid.name)
    elif word.endswith(("栋", "幢", "号楼")):
        building = "".join(ch for ch in word if ch.isdigit())
        if not building:
            raise OutOfScope(word)
        wanted = Scope("building", building, ctx.words("notice.scope_building", building=building))
    else:
        raise OutOfScope(word)
    if not _covers(ctx, own, wanted):
        audit(ctx, actor, "refused", f"notice scope {wanted.kind}:{wanted.ref}")
        raise OutOfScope(wanted.label)
    return wanted


def _own_scope(ctx: ServiceContext, actor: Actor) -> Scope:
    s = ctx.session
    if actor.role == "leader" and actor.unit_id is not None:
        unit = s.get(Unit, actor.unit_id)
        return Scope("unit", str(actor.unit_id), unit.name if unit else "")
    if actor.role == "grid" and actor.grid_id is not None:
        grid = s.get(Grid, actor.grid_id)
        return Scope("grid", str(actor.grid_id), grid.name if grid else "")
    community = s.get(Community, actor.community_id)
    return Scope("community", str(actor.community_id), community.name if community else "")


def _covers(ctx: ServiceContext, own: Scope, wanted: Scope) -> bool:
    if own.kind == "community" or own == wanted:
        return True
    inside = set(households_in(ctx, wanted))
    return bool(inside) and inside <= set(households_in(ctx, own))


def households_in(ctx: ServiceContext, scope: Scope) -> list[int]:
    q = select(Household.id).join(Unit, Unit.id == Household.unit_id).join(Grid, Grid.id == Unit.grid_id)
    if scope.kind == "unit":
        q = q.where(Household.unit_id == int(scope.ref))
    elif scope.kind == "grid":
        q = q.where(Unit.grid_id == int(scope.ref))
    elif scope.kind == "building":
        q = q.where(Household.building == scope.ref)
    else:
        q = q.where(Grid.community_id == int(scope.ref))
    return list(ctx.session.scalars(q.order_by(Household.id)))


def check_rate(ctx: ServiceContext, actor: Actor) -> None:
    since = ctx.clock.now() - timedelta(hours=24)
    count = ctx.session.scalar(
        select(func.count(Notice.id)).where(
            Notice.sender_staff_id == actor.staff_id, Notice.created_at > since
        )
    )
    if (count or 0) >= ctx.notices.per_sender_per_day:
        audit(ctx, actor, "refused", f"notice rate limit {count}")
        raise RateLimited(str(count))


_O = cast(Table, OutboxMessage.__table__)
_R = cast(Table, NoticeReceipt.__table__)
_C = cast(Table, Conversation.__table__)


def send(
    ctx: ServiceContext,
    actor: Actor,
    *,
    kind: str,
    text: str,
    scope: Scope,
    options: tuple[str, ...] = (),
    closes_at: datetime | None = None,
    draft_key: str | None = None,
) -> Sent:
    """Create the notice and queue it to every household in scope (channels now, calls as planned).
    `draft_key` (unique) makes sending one workbench draft twice fail on the insert, before any queueing."""
    require_sender(ctx, actor, kind)
    check_rate(ctx, actor)
    s, now, cfg = ctx.session, ctx.clock.now(), ctx.notices
    notice = Notice(
        kind=kind,
        community_id=actor.community_id,
        sender_staff_id=actor.staff_id,
        sender_identity_id=actor.identity_id,
        text=text,
        scope_kind=scope.kind,
        scope_ref=scope.ref,
        options=list(options),
        per_resident=cfg.votes_per == "resident",
        created_at=now,
        closes_at=closes_at,
        draft_key=draft_key,
    )
    s.add(notice)
    s.flush()
    homes = households_in(ctx, scope)
    people = s.execute(
        select(
            Resident.id,
            Resident.household_id,
            Resident.prefers_voice,
            Resident.phone,
            Resident.no_notice_calls,
        ).where(Resident.household_id.in_(homes))
    ).all()
    idents = s.execute(
        select(Identity.id, Identity.channel, Resident.household_id)
        .join(Resident, Resident.id == Identity.resident_id)
        .where(
            Resident.household_id.in_(homes),
            Identity.staff_id.is_(None),
            Identity.channel.not_in(PUSH_CHANNELS_EXCLUDED),
        )
        .order_by(Identity.id)
    ).all()
    question, pairs, params = pushed_question(ctx, notice, actor.name)
    rows = [
        {
            "dedupe_key": f"{kind}:{notice.id}:{i.id}",
            "identity_id": i.id,
            "channel": i.channel,
            "kind": kind,
            "ticket_id": None,
            "text_key": question.key,
            "params": params,
            "choices": pairs,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "last_error": "",
        }
        for i in idents
    ]
    if rows:
        s.execute(insert(_O), rows)
    _ask(ctx, [i.id for i in idents], question, notice.id, now)
    by_home: dict[int, int] = {}
    for i in idents:
        by_home[i.household_id] = by_home.get(i.household_id, 0) + 1
    callable_homes = {p.household_id for p in people if p.phone and not p.no_notice_calls}
    voice_homes = {p.household_id for p in people if p.prefers_voice and p.phone and not p.no_notice_calls}
    later = now + timedelta(minutes=cfg.call_after_minutes)
    receipts, calls_now = [], 0
    for home in homes:
        due: datetime | None = None
        if home in callable_homes:
            due = now if (not by_home.get(home) or home in voice_homes) else later
            calls_now += due == now
        own = home == actor.household_id  # the sender's own household knows already
        if own and due == now:
            calls_now -= 1
        receipts.append(
            {
                "notice_id": notice.id,
                "household_id": home,
                "channels": by_home.get(home, 0),
                "acknowledged_at": now if own else None,
                "acknowledged_via": "sender" if own else "",
                "call_state": "due" if due and not own else "",
                "call_due_at": due,
                "call_attempts": 0,
                "call_result": "",
            }
        )
    if receipts:
        s.execute(insert(_R), receipts)
    audit(ctx, actor, kind, f"{kind} {notice.id} to {scope.kind}:{scope.ref}, {len(homes)} households")
    return Sent(notice.id, len(homes), len(rows), calls_now)


def pushed_question(
    ctx: ServiceContext, notice: Notice, sender: str
) -> tuple[Reply, list[list[str]], dict[str, Any]]:
    """The pushed message, its choices as outbox pairs, and its params."""
    params: dict[str, Any] = {"notice_no": str(notice.id), "sender": sender, "text": notice.text}
    if notice.kind == "consult":
        params["closes"] = local_time(ctx, notice.closes_at)
        choices = tuple(
            Choice(str(n), text=label, action="vote.cast", arg=f"{notice.id}:{n}")
            for n, label in enumerate(notice.options, start=1)
        )
        reply = Reply("notice.consult_pushed", params, choices)
        return reply, [[c.digit, "", c.text or ""] for c in choices], params
    choices = (Choice("1", key="choice.received", action="notice.ack", arg=str(notice.id)),)
    return Reply("notice.pushed", params, choices), [["1", "choice.received"]], params


def _ask(
    ctx: ServiceContext, identity_ids: list[int], question: Reply, notice_id: int, now: datetime
) -> None:
    """Make each idle resident's next bare digit answer the notice (in bulk: `ask_if_idle` for many)."""
    if not identity_ids:
        return
    state = State.NOTICE_VOTE if question.choices[0].action == "vote.cast" else State.NOTICE_ACK
    slots = {"notice_no": str(notice_id), "prompt": [question.to_json()], "retries": 0}
    s = ctx.session
    rows = s.execute(
        select(_C.c.id, _C.c.identity_id, _C.c.state, _C.c.slots).where(_C.c.identity_id.in_(identity_ids))
    ).all()
    known = {r.identity_id for r in rows}
    idle = [r.id for r in rows if r.state == State.IDLE and not (r.slots or {}).get("held")]
    for conv_id in idle:
        s.execute(update(_C).where(_C.c.id == conv_id).values(state=str(state), slots=slots, updated_at=now))
    fresh = [
        {"identity_id": i, "state": str(state), "slots": slots, "updated_at": now}
        for i in identity_ids
        if i not in known
    ]
    if fresh:
        s.execute(insert(_C), fresh)
    ctx.session.info.pop("conversations", None)


def local_time(ctx: ServiceContext, at: datetime | None) -> str:
    """A naive-UTC time as the community reads it: 「12 月 11 日 18:00」."""
    if at is None:
        return ""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    local = at.replace(tzinfo=UTC).astimezone(ZoneInfo(ctx.timezone))
    return f"{local.month} 月 {local.day} 日 {local.hour}:{local.minute:02d}"


def get_notice(ctx: ServiceContext, notice_no: str | int) -> Notice:
    try:
        notice = ctx.session.get(Notice, int(notice_no))
    except (TypeError, ValueError):
        notice = None
    if notice is None:
        raise NotFoundError(str(notice_no))
    return notice


def receipt_of(ctx: ServiceContext, notice_id: int, household_id: int | None) -> NoticeReceipt | None:
    if household_id is None:
        return None
    return ctx.session.scalar(
        select(NoticeReceipt).where(
            NoticeReceipt.notice_id == notice_id, NoticeReceipt.household_id == household_id
        )
    )


def acknowledge(ctx: ServiceContext, actor: Actor, notice_no: str, via: str) -> bool:
    """The household has the notice: no call needed any more. False when it was not theirs."""
    receipt = receipt_of(ctx, int(notice_no), actor.household_id)
    if receipt is None:
        return False
    if receipt.acknowledged_at is None:
        receipt.acknowledged_at, receipt.acknowledged_via = ctx.clock.now(), via
    if receipt.call_state == "due":
        receipt.call_state = "cancelled"
    return True


def sent_from_draft(ctx: ServiceContext, actor: Actor, draft_key: str) -> int | None:
    """The notice this staff member already sent from this workbench draft, if any."""
    return ctx.session.scalar(
        select(Notice.id).where(Notice.draft_key == draft_key, Notice.sender_staff_id == actor.staff_id)
    )


def sender_name(ctx: ServiceContext, notice: Notice) -> str:
    staff = ctx.session.get(Staff, notice.sender_staff_id)
    return staff.name if staff else ""
