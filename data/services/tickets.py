"""Tickets: creation with routing, visibility, and the read side (status, tasks)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from bot.errors import NotFoundError, PermissionDenied
from data import workflow
from data.models import Alert, AuditLog, Household, Resident, Staff, Ticket, TicketEvent, Unit
from data.services import ServiceContext
from data.services.directory import Actor, community_staff, grid_worker_of, leader_of_unit
from data.services.outbox import notify


@dataclass(frozen=True)
class TicketView:
    """What a reply may say about a ticket."""

    public_no: str
    item: str
    category: str
    status: str
    tier: int
    urgent: bool
    address: str
    description: str
    created_at: datetime
    overdue: bool
    last_event: str
    last_note: str
    assignee_role: str | None


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
) -> Ticket:
    """File a ticket, route it, and queue the notifications, all in the caller's transaction."""
    item = ctx.catalog.item(item_code)
    now = ctx.clock.now()
    unit_id = household.unit_id if household else actor.unit_id
    unit = ctx.session.get(Unit, unit_id) if unit_id else None
    grid_id = unit.grid_id if unit else actor.grid_id
    community_id = unit.grid.community_id if unit else actor.community_id
    if community_id is None:
        raise PermissionDenied("no community for this actor")
    tier, assignee = route(ctx, 1 if urgent else item.tier, unit_id, grid_id, community_id)
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


ACCEPT_CHOICE = (("1", "choice.accept"),)


def send_task(
    ctx: ServiceContext,
    ticket: Ticket,
    staff_id: int,
    event_id: int | str,
    params: dict[str, str] | None = None,
) -> None:
    """Push a task (new, escalated or reopened) to the staff member who must accept it."""
    notify(
        ctx,
        kind="new_task",
        key="leader.new_task",
        params=params or task_params(ctx, ticket),
        staff_id=staff_id,
        ticket=ticket,
        event_id=event_id,
        choices=ACCEPT_CHOICE,
    )


def alert_emergency(ctx: ServiceContext, ticket: Ticket, event_id: int | str) -> None:
    """Alert the leader, the grid worker and the duty contact at once (repeated until acknowledged)."""
    params = task_params(ctx, ticket)
    for staff in emergency_recipients(ctx, ticket):
        notify(
            ctx,
            kind="emergency",
            key="leader.emergency_task",
            params=params,
            staff_id=staff.id,
            ticket=ticket,
            event_id=event_id,
            choices=ACCEPT_CHOICE,
        )
    ticket.last_alert_at = ctx.clock.now()


def _notify_new(ctx: ServiceContext, ticket: Ticket, assignee: Staff | None, event_id: int) -> None:
    if ticket.urgent:
        alert_emergency(ctx, ticket, event_id)
    elif assignee is not None:
        send_task(ctx, ticket, assignee.id, event_id)
    if ticket.needs_verification and assignee is not None:
        notify(
            ctx,
            kind="verify",
            key="leader.verify_caller",
            params=task_params(ctx, ticket),
            staff_id=assignee.id,
            ticket=ticket,
            event_id=event_id,
        )


def emergency_recipients(ctx: ServiceContext, ticket: Ticket) -> list[Staff]:
    """Leader, grid worker and the community duty contact, once each."""
    from data.services.directory import find_identity

    people: list[Staff | None] = []
    if ticket.unit_id:
        people.append(leader_of_unit(ctx, ticket.unit_id))
    if ticket.grid_id:
        people.append(grid_worker_of(ctx, ticket.grid_id))
    duty_ident = (
        find_identity(ctx, ctx.emergency.duty_identity) if ":" in ctx.emergency.duty_identity else None
    )
    if duty_ident is not None and duty_ident.staff_id:
        people.append(ctx.session.get(Staff, duty_ident.staff_id))
    else:
        people.append(
            ctx.session.scalar(
                select(Staff).where(Staff.role == "duty", Staff.community_id == ticket.community_id).limit(1)
            )
        )
    seen: dict[int, Staff] = {}
    for p in people:
        if p is not None:
            seen.setdefault(p.id, p)
    return list(seen.values())


def task_params(ctx: ServiceContext, ticket: Ticket) -> dict[str, str]:
    """Parameters for messages to staff (they may see their own residents' address and name)."""
    hh = ctx.session.get(Household, ticket.household_id) if ticket.household_id else None
    about = ctx.session.get(Resident, ticket.about_resident_id) if ticket.about_resident_id else None
    item = ctx.catalog.item(ticket.item)
    return {
        "ticket_no": ticket.public_no,
        "item": item.name,
        "category": ctx.catalog.category(item.category).name,
        "address": hh.address if hh else "",
        "name": about.name if about else "",
        "description": (ticket.description[:60] + "。") if ticket.description else "",
        "tier": f"@tier.{ticket.tier}",
    }


def check_cluster(ctx: ServiceContext, ticket: Ticket) -> None:
    """Alert the grid worker once when K tickets of one item arise in a unit or grid within T hours."""
    k, hours = ctx.alerts.cluster_threshold, ctx.alerts.cluster_window_hours
    since = ctx.clock.now() - timedelta(hours=hours)
    for scope, column, value in (
        ("unit", Ticket.unit_id, ticket.unit_id),
        ("grid", Ticket.grid_id, ticket.grid_id),
    ):
        if value is None or ticket.grid_id is None:
            continue
        rows = list(
            ctx.session.scalars(
                select(Ticket.id)
                .where(column == value, Ticket.item == ticket.item, Ticket.created_at >= since)
                .order_by(Ticket.id)
            )
        )
        if len(rows) < k:
            continue
        key = f"cluster:{scope}:{value}:{ticket.item}:{rows[0]}"
        if ctx.session.scalar(select(Alert.id).where(Alert.key == key)):
            continue
        if ctx.session.scalar(
            select(Alert.id).where(Alert.key.like(f"cluster:%:%:{ticket.item}:%"), Alert.created_at >= since)
        ):
            continue  # one alert per item and window, whichever scope fired first
        ctx.session.add(
            Alert(
                key=key,
                kind="cluster",
                created_at=ctx.clock.now(),
                detail={"scope": scope, "count": len(rows)},
            )
        )
        worker = grid_worker_of(ctx, ticket.grid_id)
        if worker is not None:
            unit = ctx.session.get(Unit, ticket.unit_id) if ticket.unit_id else None
            label = unit.name if scope == "unit" and unit else "本网格"
            notify(
                ctx,
                kind="cluster",
                key="leader.cluster_alert",
                staff_id=worker.id,
                ticket=ticket,
                event_id=key,
                params={
                    "unit": label,
                    "hours": str(int(hours)),
                    "count": str(len(rows)),
                    "item": ctx.catalog.item(ticket.item).name,
                },
            )
        ctx.session.flush()
        return


def visible_filter(actor: Actor):  # type: ignore[no-untyped-def]
    """SQL condition for the tickets an actor may see."""
    conds = []
    if actor.resident_id is not None:
        conds += [
            Ticket.reporter_resident_id == actor.resident_id,
            Ticket.about_resident_id == actor.resident_id,
        ]
    conds.append(Ticket.reporter_identity_id == actor.identity_id)
    if actor.staff_id is not None:
        conds.append(Ticket.reporter_staff_id == actor.staff_id)
        conds.append(Ticket.assignee_id == actor.staff_id)
        if actor.role == "leader" and actor.unit_id is not None:
            conds.append(Ticket.unit_id == actor.unit_id)
        elif actor.role == "grid" and actor.grid_id is not None:
            conds.append(Ticket.grid_id == actor.grid_id)
        elif actor.role in ("staff", "duty") and actor.community_id is not None:
            conds.append(Ticket.community_id == actor.community_id)
    return or_(*conds)


def own_filter(actor: Actor):  # type: ignore[no-untyped-def]
    """The tickets an actor reported or that are about them (what 查询进度 reads back)."""
    conds = [Ticket.reporter_identity_id == actor.identity_id]
    if actor.resident_id is not None:
        conds += [
            Ticket.reporter_resident_id == actor.resident_id,
            Ticket.about_resident_id == actor.resident_id,
        ]
    if actor.staff_id is not None:
        conds.append(Ticket.reporter_staff_id == actor.staff_id)
    return or_(*conds)


def get_visible(ctx: ServiceContext, actor: Actor, public_no: str) -> Ticket:
    """A ticket by number, or NotFound; a ticket the actor may not see is also 'not found'."""
    ticket = ctx.session.scalar(select(Ticket).where(Ticket.public_no == public_no, visible_filter(actor)))
    if ticket is None:
        if ctx.session.scalar(select(Ticket.id).where(Ticket.public_no == public_no)) is not None:
            # It exists but is someone else's: answer exactly as for a wrong number, and log the refusal.
            ctx.session.add(
                AuditLog(
                    at=ctx.clock.now(),
                    identity_id=actor.identity_id,
                    action="refused",
                    detail="ticket not visible",
                )
            )
        raise NotFoundError(public_no)
    return ticket


def own_open(ctx: ServiceContext, actor: Actor, statuses: tuple[str, ...] = workflow.OPEN) -> list[Ticket]:
    return list(
        ctx.session.scalars(
            select(Ticket)
            .where(own_filter(actor), Ticket.status.in_(statuses))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        )
    )


def tasks_for(ctx: ServiceContext, actor: Actor) -> list[Ticket]:
    """Open tasks assigned to a staff member: emergencies first, then overdue, then by due time."""
    mine = Ticket.assignee_id == actor.staff_id
    alarms = Ticket.urgent.is_(True) & Ticket.acknowledged_at.is_(None) & visible_filter(actor)
    rows = list(
        ctx.session.scalars(select(Ticket).where(or_(mine, alarms), Ticket.status.in_(workflow.ACTIVE)))
    )
    now = ctx.clock.now()
    far = datetime.max
    return sorted(rows, key=lambda t: (not t.urgent, not is_overdue(t, now), t.accept_due_at or far, t.id))


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    if ticket.status in (workflow.SUBMITTED, workflow.REOPENED):
        return bool(ticket.accept_due_at and ticket.accept_due_at < now)
    if ticket.status in workflow.ACTIVE:
        return bool(ticket.resolve_due_at and ticket.resolve_due_at < now)
    return False


def view(ctx: ServiceContext, ticket: Ticket) -> TicketView:
    last = ctx.session.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id.desc()).limit(1)
    )
    hh = ctx.session.get(Household, ticket.household_id) if ticket.household_id else None
    assignee = ctx.session.get(Staff, ticket.assignee_id) if ticket.assignee_id else None
    return TicketView(
        public_no=ticket.public_no,
        item=ticket.item,
        category=ticket.category,
        status=ticket.status,
        tier=ticket.tier,
        urgent=ticket.urgent,
        address=hh.address if hh else "",
        description=ticket.description,
        created_at=ticket.created_at,
        overdue=is_overdue(ticket, ctx.clock.now()),
        last_event=last.kind if last else "created",
        last_note=last.note if last and last.kind in ("resolved", "escalated", "in_progress", "note") else "",
        assignee_role=assignee.role if assignee else None,
    )


def count_open(ctx: ServiceContext) -> int:
    return int(ctx.session.scalar(select(func.count(Ticket.id)).where(Ticket.status.in_(workflow.OPEN))) or 0)
