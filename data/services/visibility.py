"""Who may see which ticket, and the read side: a resident's tickets, a leader's tasks, a ticket's view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select

from core.conversation import Actor
from core.errors import NotFoundError
from data import workflow
from data.models import (
    AuditLog,
    Grid,
    Household,
    Referral,
    Staff,
    Ticket,
    TicketEvent,
    Unit,
    format_address,
)
from data.services import ServiceContext


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


def visible_filter(actor: Actor):  # type: ignore[no-untyped-def]
    """SQL condition for the tickets an actor may see. A service provider: only those referred to it."""
    if actor.role == "provider":
        referred = select(Referral.ticket_id).where(
            Referral.provider_id == actor.staff_id, Referral.status.in_(("referred", "accepted", "resolved"))
        )
        return Ticket.id.in_(referred)
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


def own_filter(actor: Actor, *, prepared: bool = False):  # type: ignore[no-untyped-def]
    """The tickets an actor reported or that are about them (what 查询进度 reads back). `prepared`
    gives the same condition with bind parameters (identity_id, resident_id, staff_id), for a
    statement built once per actor shape."""

    def value(name: str, v: int | None) -> Any:
        return bindparam(name) if prepared else v

    conds = [Ticket.reporter_identity_id == value("identity_id", actor.identity_id)]
    if actor.resident_id is not None:
        conds += [
            Ticket.reporter_resident_id == value("resident_id", actor.resident_id),
            Ticket.about_resident_id == value("resident_id", actor.resident_id),
        ]
    if actor.staff_id is not None:
        conds.append(Ticket.reporter_staff_id == value("staff_id", actor.staff_id))
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


def own_open_views(
    ctx: ServiceContext, actor: Actor, statuses: tuple[str, ...] = workflow.OPEN
) -> list[TicketView]:
    """`own_open` as views, newest first, in one prebuilt statement (what every 查询进度 runs)."""
    shape = (actor.resident_id is not None, actor.staff_id is not None)
    stmt = _OWN_VIEWS.get(shape)
    if stmt is None:
        stmt = _OWN_VIEWS[shape] = _own_views_statement(actor)
    params = {
        "identity_id": actor.identity_id,
        "resident_id": actor.resident_id,
        "staff_id": actor.staff_id,
        "statuses": list(statuses),
    }
    now = ctx.clock.now()
    return [
        _view(
            row,  # type: ignore[arg-type]  # a row has the ticket's columns as attributes
            format_address(row.building, row.entrance, row.room) if row.building else "",
            row.kind,
            row.note,
            row.role,
            now,
        )
        for row in ctx.session.connection().execute(stmt, params)
    ]


_OWN_VIEWS: dict[tuple[bool, bool], Any] = {}


def _own_views_statement(actor: Actor):  # type: ignore[no-untyped-def]
    """Built once per actor shape: building a statement costs more than running it."""
    t, h, s, e = Ticket.__table__, Household.__table__, Staff.__table__, TicketEvent.__table__
    later = e.alias("later")
    last_id = select(func.max(later.c.id)).where(later.c.ticket_id == t.c.id).scalar_subquery()
    return (
        select(t, h.c.building, h.c.entrance, h.c.room, s.c.role, e.c.kind, e.c.note)
        .select_from(
            t.outerjoin(h, h.c.id == t.c.household_id)
            .outerjoin(s, s.c.id == t.c.assignee_id)
            .outerjoin(e, e.c.id == last_id)
        )
        .where(own_filter(actor, prepared=True), t.c.status.in_(bindparam("statuses", expanding=True)))
        .order_by(t.c.created_at.desc(), t.c.id.desc())
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
    return _view(
        ticket,
        hh.address if hh else "",
        last.kind if last else None,
        last.note if last else None,
        assignee.role if assignee else None,
        ctx.clock.now(),
    )


def _view(
    ticket: Ticket,
    address: str,
    last_kind: str | None,
    last_note: str | None,
    assignee_role: str | None,
    now: datetime,
) -> TicketView:
    return TicketView(
        public_no=ticket.public_no,
        item=ticket.item,
        category=ticket.category,
        status=ticket.status,
        tier=ticket.tier,
        urgent=ticket.urgent,
        address=address,
        description=ticket.description,
        created_at=ticket.created_at,
        overdue=is_overdue(ticket, now),
        last_event=last_kind or "created",
        last_note=(last_note or "") if last_kind in ("resolved", "escalated", "in_progress", "note") else "",
        assignee_role=assignee_role,
    )


# -- the workbench's pages: who may open which, and the part of the registry each role sees ---------
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "board": ("leader", "grid", "staff", "duty"),
    "alerts": ("leader", "grid", "staff", "duty"),
    "notices": ("leader", "grid", "staff", "duty"),
    "registry": ("leader", "grid", "staff", "duty"),
    "registry_import": ("staff",),
    "map": ("leader", "grid", "staff", "duty"),
    "figures": ("leader", "grid", "staff", "duty"),
    "audit": ("staff",),
}


def may_open(actor: Actor, page: str) -> bool:
    return actor.role in PAGE_ROLES.get(page, ())


def unit_scope(actor: Actor):  # type: ignore[no-untyped-def]
    """SQL condition on units (joined with their grid) for the part of the community an actor keeps:
    a leader their unit, a grid worker their grid, staff the community — as for tickets."""
    if actor.role == "leader" and actor.unit_id is not None:
        return Unit.id == actor.unit_id
    if actor.role == "grid" and actor.grid_id is not None:
        return Unit.grid_id == actor.grid_id
    if actor.role in ("staff", "duty") and actor.community_id is not None:
        return Grid.community_id == actor.community_id
    return Unit.id == -1
