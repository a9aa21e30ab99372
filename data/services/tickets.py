"""Tickets: numbering, routing by tier, deadlines, events, and filing a new ticket."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from core.conversation import Actor
from core.errors import PermissionDenied
from data import workflow
from data.models import Household, Staff, Ticket, TicketEvent, Unit
from data.services import ServiceContext
from data.services.alerts import alert_emergency, check_cluster, send_task, tell_staff
from data.services.directory import community_staff, grid_worker_of, leader_of_unit
from data.services.webhooks import on_event


def new_public_no(ctx: ServiceContext) -> str:
    """A random 6-digit number: short to read aloud, not guessable in sequence."""
    for _ in range(50):
        no = str(100000 + secrets.randbelow(900000))
        if ctx.session.scalar(select(Ticket.id).where(Ticket.public_no == no)) is None:
            return no
    raise RuntimeError("no free ticket number")


def route(
    ctx: ServiceContext, tier: int, unit_id: int | None, grid_id: int | None, community_id: int
) -> tuple[int, Staff | None]:
    """Who handles a ticket at a tier; a missing role falls back to the next tier up."""
    if tier <= 1 and unit_id is not None:
        leader = leader_of_unit(ctx, unit_id)
        if leader is not None:
            return 1, leader
    if tier <= 2 and grid_id is not None:
        worker = grid_worker_of(ctx, grid_id)
        if worker is not None:
            return 2, worker
    return 3, community_staff(ctx, community_id)


def add_event(
    ctx: ServiceContext,
    ticket: Ticket,
    kind: str,
    actor: Actor | None,
    *,
    from_status: str | None = None,
    note: str = "",
) -> TicketEvent:
    ev = TicketEvent(
        ticket_id=ticket.id,
        at=ctx.clock.now(),
        kind=kind,
        actor_kind="system" if actor is None else ("staff" if actor.is_staff else "resident"),
        actor_id=None if actor is None else (actor.staff_id if actor.is_staff else actor.resident_id),
        actor_name="" if actor is None else actor.name,
        from_status=from_status,
        to_status=ticket.status,
        tier=ticket.tier,
        note=note,
    )
    ctx.session.add(ev)
    ctx.session.flush()
    on_event(ctx, ticket, ev)  # integrators' webhooks, queued in this same transaction
    return ev


def set_due(
    ctx: ServiceContext, ticket: Ticket, item_accept: float | None = None, item_resolve: float | None = None
) -> None:
    now = ctx.clock.now()
    if ticket.urgent:
        ticket.accept_due_at = now + timedelta(minutes=ctx.deadlines.emergency_ack_target_minutes)
        ticket.resolve_due_at = now + timedelta(hours=ctx.deadlines.resolve_hours(1))
        return
    accept = item_accept if item_accept is not None else ctx.deadlines.accept_hours(ticket.tier)
    resolve = item_resolve if item_resolve is not None else ctx.deadlines.resolve_hours(ticket.tier)
    ticket.accept_due_at = now + timedelta(hours=accept)
    ticket.resolve_due_at = now + timedelta(hours=resolve)


def create_ticket(
    ctx: ServiceContext,
    actor: Actor,
    *,
    item_code: str,
    description: str,
    household: Household | None,
    about_resident_id: int | None,
    urgent: bool = False,
    needs_verification: bool = False,
    kind: str = "request",
) -> Ticket:
    """File a ticket, route it, and queue the notifications, all in the caller's transaction.
    A `message` (留言) goes to the unit's leader (the grid worker when there is none) whatever its item."""
    item = ctx.catalog.item(item_code)
    now = ctx.clock.now()
    unit_id = household.unit_id if household else actor.unit_id
    unit = ctx.session.get(Unit, unit_id) if unit_id else None
    grid_id = unit.grid_id if unit else actor.grid_id
    community_id = unit.grid.community_id if unit else actor.community_id
    if community_id is None:
        raise PermissionDenied("no community for this actor")
    tier, assignee = route(
        ctx, 1 if urgent or kind == "message" else item.tier, unit_id, grid_id, community_id
    )
    ticket = Ticket(
        public_no=new_public_no(ctx),
        community_id=community_id,
        category=item.category,
        item=item.code,
        description=description[:2000],
        urgent=urgent,
        status=workflow.SUBMITTED,
        tier=tier,
        unit_id=unit_id,
        grid_id=grid_id,
        household_id=household.id if household else actor.household_id,
        assignee_id=assignee.id if assignee else None,
        reporter_resident_id=actor.resident_id if not actor.is_staff else None,
        reporter_staff_id=actor.staff_id,
        about_resident_id=about_resident_id,
        reporter_identity_id=actor.identity_id,
        source_channel=actor.channel,
        needs_verification=needs_verification,
        kind=kind,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(ticket)
    ctx.session.flush()
    same_tier = tier == item.tier
    set_due(ctx, ticket, item.accept_hours if same_tier else None, item.resolve_hours if same_tier else None)
    ev = add_event(ctx, ticket, "created", actor, note=description[:500])
    _notify_new(ctx, ticket, assignee, ev.id)
    if not urgent:
        check_cluster(ctx, ticket)
    return ticket


def _notify_new(ctx: ServiceContext, ticket: Ticket, assignee: Staff | None, event_id: int) -> None:
    if ticket.urgent:
        alert_emergency(ctx, ticket, event_id)
    elif assignee is not None:
        send_task(ctx, ticket, assignee.id, event_id)
    if ticket.needs_verification and assignee is not None:
        # a registered resident reporting for another household, or a caller nobody registered
        key = "leader.verify_proxy" if ticket.reporter_resident_id is not None else "leader.verify_caller"
        tell_staff(ctx, ticket, assignee.id, "verify", key, event_id)
