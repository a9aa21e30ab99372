"""Ticket actions: staff steps, escalation, urge, cancel, rating. Each change and its notifications
are written in the caller's transaction (the transactional outbox)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.conversation import Actor, DialogueState, State
from core.errors import PermissionDenied
from core.messages import Reply, menu
from data import workflow
from data.models import AuditLog, Rating, Referral, Staff, Ticket
from data.services import ServiceContext
from data.services.alerts import send_task, task_params, tell_staff
from data.services.conversations import ask_if_idle
from data.services.directory import identities_of
from data.services.outbox import notify
from data.services.tickets import add_event, route, set_due

ROLE_TIER = {"leader": 1, "grid": 2, "staff": 3, "duty": 3}
URGE_INTERVAL = timedelta(hours=1)


def audit(ctx: ServiceContext, actor: Actor | None, action: str, detail: str) -> None:
    ctx.session.add(
        AuditLog(
            at=ctx.clock.now(), identity_id=actor.identity_id if actor else None, action=action, detail=detail
        )
    )


def can_manage(actor: Actor, ticket: Ticket) -> bool:
    """Leaders act on their unit's tickets, grid workers on their grid's, staff on the community's."""
    if ticket.assignee_id is not None and ticket.assignee_id == actor.staff_id:
        return True
    if actor.role == "leader":
        return ticket.unit_id is not None and ticket.unit_id == actor.unit_id
    if actor.role == "grid":
        return ticket.grid_id is not None and ticket.grid_id == actor.grid_id
    if actor.role in ("staff", "duty"):
        return ticket.community_id == actor.community_id
    return False


def require_manage(ctx: ServiceContext, actor: Actor, ticket: Ticket) -> None:
    if not can_manage(actor, ticket):
        audit(ctx, actor, "refused", f"manage ticket {ticket.public_no}")
        raise PermissionDenied(ticket.public_no)


def residents_to_tell(ticket: Ticket) -> dict[str, set[int]]:
    """Who hears about progress: the resident it is about, the reporter, and a proxy reporter."""
    residents = {r for r in (ticket.about_resident_id, ticket.reporter_resident_id) if r}
    staff = {ticket.reporter_staff_id} if ticket.reporter_staff_id else set()
    return {"resident": residents, "staff": staff}


def tell_residents(
    ctx: ServiceContext,
    ticket: Ticket,
    kind: str,
    key: str,
    event_id: int,
    extra: dict[str, str] | None = None,
    choices: tuple[tuple[str, str], ...] = (),
) -> None:
    params = {**task_params(ctx, ticket), **(extra or {})}
    who = residents_to_tell(ticket)
    people = [{"resident_id": rid} for rid in who["resident"]] + [{"staff_id": sid} for sid in who["staff"]]
    for person in people:
        notify(
            ctx,
            kind=kind,
            key=key,
            params=params,
            ticket=ticket,
            event_id=event_id,
            choices=choices,
            **person,
        )


def transition(ctx: ServiceContext, actor: Actor | None, ticket: Ticket, wanted: str, note: str = "") -> int:
    """Validated status change plus its event; returns the event id."""
    workflow.check(ticket.status, wanted)
    before = ticket.status
    now = ctx.clock.now()
    ticket.status = wanted
    ticket.updated_at = now
    if wanted in (workflow.ACCEPTED, workflow.IN_PROGRESS, workflow.RESOLVED) and ticket.accepted_at is None:
        ticket.accepted_at = now
    if ticket.urgent and ticket.acknowledged_at is None and wanted != workflow.CANCELLED:
        ticket.acknowledged_at = now
    if wanted == workflow.RESOLVED:
        ticket.resolved_at = now
    if wanted in workflow.FINAL:
        ticket.closed_at = now
    return add_event(ctx, ticket, wanted, actor, from_status=before, note=note).id


def staff_step(ctx: ServiceContext, actor: Actor, ticket: Ticket, wanted: str, note: str = "") -> None:
    """接单 / 处理中 / 办结 by a leader, grid worker or staff member."""
    require_manage(ctx, actor, ticket)
    event_id = transition(ctx, actor, ticket, wanted, note)
    if ticket.assignee_id is None or (actor.staff_id and ROLE_TIER.get(actor.role, 0) >= ticket.tier):
        ticket.assignee_id = actor.staff_id
    extra = {"actor": f"@tier.{ROLE_TIER.get(actor.role, 3)}", "note": note}
    if wanted == workflow.ACCEPTED:
        tell_residents(ctx, ticket, "accepted", "notify.accepted", event_id, extra)
    elif wanted == workflow.IN_PROGRESS:
        tell_residents(ctx, ticket, "in_progress", "notify.in_progress", event_id, extra)
    elif wanted == workflow.RESOLVED:
        tell_residents(ctx, ticket, "resolved", "notify.resolved", event_id, extra)
        ask_rating(ctx, ticket, event_id)


RATING = menu(
    ("1", "choice.satisfied", "rate.give", "1"),
    ("2", "choice.basic", "rate.give", "2"),
    ("3", "choice.unsatisfied", "rate.give", "3"),
)


def ask_rating(ctx: ServiceContext, ticket: Ticket, event_id: int) -> None:
    """Ask the resident to rate, and make their next bare digit answer it if they are idle."""
    pairs = tuple((c.digit, c.key or "") for c in RATING)
    tell_residents(ctx, ticket, "rate", "rate.ask", event_id, choices=pairs)
    question = Reply("rate.ask", {"ticket_no": ticket.public_no}, RATING).to_json()
    for rid in residents_to_tell(ticket)["resident"]:
        for ident in identities_of(ctx, resident_id=rid):
            state = DialogueState(State.RATE, {"ticket_no": ticket.public_no, "prompt": [question]})
            ask_if_idle(ctx, ident.id, state)


def escalate(
    ctx: ServiceContext, actor: Actor | None, ticket: Ticket, reason: str, *, kind: str = "escalated"
) -> bool:
    """Hand a ticket to the next tier (leader → grid worker → community). False at the top tier."""
    if actor is not None:
        require_manage(ctx, actor, ticket)
    if ticket.status in workflow.FINAL or ticket.status == workflow.RESOLVED:
        raise workflow.TransitionError(ticket.status, "escalated")
    if ticket.tier >= 3:
        return False
    tier, assignee = route(ctx, ticket.tier + 1, ticket.unit_id, ticket.grid_id, ticket.community_id)
    ticket.tier = tier
    ticket.assignee_id = assignee.id if assignee else None
    ticket.updated_at = ctx.clock.now()
    set_due(ctx, ticket)
    event_id = add_event(ctx, ticket, "escalated", actor, from_status=ticket.status, note=reason).id
    if assignee is not None:
        params = {
            **task_params(ctx, ticket),
            "description": reason and ctx.words("note.escalate_reason", reason=reason),
        }
        send_task(ctx, ticket, assignee.id, event_id, params)
    if kind == "overdue":
        tell_residents(ctx, ticket, "overdue", "notify.overdue", event_id)
        if actor is None and ticket.tier > 1:
            _tell_previous(ctx, ticket, event_id)
    else:
        tell_residents(ctx, ticket, "escalated", "notify.escalated", event_id)
    return True


def _tell_previous(ctx: ServiceContext, ticket: Ticket, event_id: int) -> None:
    """On deadline escalation the tier that missed it is told as well ('tells both sides')."""
    prev_tier = ticket.tier - 1
    tier, prev = route(ctx, prev_tier, ticket.unit_id, ticket.grid_id, ticket.community_id)
    if tier == prev_tier and prev is not None:
        tell_staff(ctx, ticket, prev.id, "overdue_notice", "leader.overdue", event_id)


def urge(ctx: ServiceContext, actor: Actor, ticket: Ticket) -> bool:
    """Record an urge and tell the assignee; False when urged within the last hour."""
    now = ctx.clock.now()
    if ticket.last_urged_at and now - ticket.last_urged_at < URGE_INTERVAL:
        return False
    ticket.last_urged_at = now
    event_id = add_event(ctx, ticket, "urged", actor, from_status=ticket.status).id
    if ticket.assignee_id:
        tell_staff(ctx, ticket, ticket.assignee_id, "urged", "leader.urged", event_id)
    return True


def cancel(ctx: ServiceContext, actor: Actor, ticket: Ticket) -> None:
    event_id = transition(ctx, actor, ticket, workflow.CANCELLED, ctx.words("note.cancelled"))
    if ticket.assignee_id:
        tell_staff(ctx, ticket, ticket.assignee_id, "cancelled", "leader.cancelled", event_id)


def rate(ctx: ServiceContext, actor: Actor | None, ticket: Ticket, score: int, comment: str = "") -> bool:
    """1 satisfied / 2 basically → closed; 3 → reopened one tier up. Returns True when reopened."""
    if ticket.status != workflow.RESOLVED:
        raise workflow.TransitionError(ticket.status, "rated")
    ctx.session.add(
        Rating(
            ticket_id=ticket.id,
            resident_id=actor.resident_id if actor else None,
            score=score,
            comment=comment[:500],
            created_at=ctx.clock.now(),
        )
    )
    ticket.rating = score
    rated_referral(ctx, ticket, score)
    if score in (1, 2):
        transition(ctx, actor, ticket, workflow.CLOSED, ctx.words("note.rated", score=score))
        return False
    transition(ctx, actor, ticket, workflow.REOPENED, ctx.words("note.unsatisfied"))
    if not escalate(ctx, None, ticket, ctx.words("note.unsatisfied_redo")):
        set_due(ctx, ticket)  # already at the top tier: the same team gets it back with a new deadline
        if ticket.assignee_id:
            send_task(ctx, ticket, ticket.assignee_id, f"reopen-{ticket.updated_at.isoformat()}")
    return True


def rated_referral(ctx: ServiceContext, ticket: Ticket, score: int) -> None:
    """A rating of a ticket a provider resolved counts in that provider's figures."""
    referral = ctx.session.scalar(
        select(Referral)
        .where(Referral.ticket_id == ticket.id, Referral.status == "resolved")
        .order_by(Referral.id.desc())
        .limit(1)
    )
    if referral is not None:
        referral.rating = score


# -- steps the community workbench adds (the chat's steps above are used there as they are) ----------
ASSIGNABLE = ("leader", "grid")


def may_assign(actor: Actor, target: Staff) -> bool:
    """Grid workers hand a matter to a leader or worker in their grid, staff to anyone in the community."""
    if not target.active or target.role not in ASSIGNABLE or target.community_id != actor.community_id:
        return False
    if actor.role == "grid":
        return target.grid_id == actor.grid_id
    return actor.role in ("staff", "duty")


def assign(ctx: ServiceContext, actor: Actor, ticket: Ticket, staff_id: int) -> Staff:
    """Give an open matter to a named leader or grid worker, who gets it as a new task."""
    require_manage(ctx, actor, ticket)
    target = ctx.session.get(Staff, staff_id)
    if target is None or not may_assign(actor, target):
        audit(ctx, actor, "refused", f"assign ticket {ticket.public_no}")
        raise PermissionDenied(ticket.public_no)
    if ticket.status not in workflow.ACTIVE:
        raise workflow.TransitionError(ticket.status, "assigned")
    ticket.assignee_id = target.id
    ticket.tier = ROLE_TIER[target.role]
    ticket.updated_at = ctx.clock.now()
    set_due(ctx, ticket)
    note = ctx.words("note.assigned", name=target.name)
    event_id = add_event(ctx, ticket, "assigned", actor, from_status=ticket.status, note=note).id
    send_task(ctx, ticket, target.id, event_id)
    return target


def add_note(ctx: ServiceContext, actor: Actor, ticket: Ticket, note: str) -> None:
    """An internal note in the matter's history (not read back to residents)."""
    require_manage(ctx, actor, ticket)
    add_event(ctx, ticket, "staff_note", actor, from_status=ticket.status, note=note[:2000])


def close(ctx: ServiceContext, actor: Actor, ticket: Ticket, note: str = "") -> None:
    """Close a resolved matter without waiting for the resident's rating; the resident is told."""
    require_manage(ctx, actor, ticket)
    event_id = transition(ctx, actor, ticket, workflow.CLOSED, note or ctx.words("note.closed_by_staff"))
    tell_residents(ctx, ticket, "closed", "notify.closed_unrated", event_id)


def reopen(ctx: ServiceContext, actor: Actor, ticket: Ticket, reason: str) -> None:
    """Open a resolved or closed matter again: a new deadline, the assignee and the resident are told."""
    require_manage(ctx, actor, ticket)
    event_id = transition(ctx, actor, ticket, workflow.REOPENED, reason)
    ticket.resolved_at = ticket.closed_at = None
    set_due(ctx, ticket)
    if ticket.assignee_id:
        send_task(ctx, ticket, ticket.assignee_id, event_id)
    tell_residents(ctx, ticket, "reopened", "notify.reopened", event_id)


def verify(ctx: ServiceContext, actor: Actor, ticket: Ticket) -> None:
    """Mark a report made for someone else (or from an unregistered phone) as checked."""
    require_manage(ctx, actor, ticket)
    if not ticket.needs_verification:
        raise workflow.TransitionError("verified", "verified")
    ticket.needs_verification = False
    ticket.updated_at = ctx.clock.now()
    add_event(ctx, ticket, "verified", actor, from_status=ticket.status)
