"""The workbench's board (看板): open matters an actor may see, filtered, most urgent first, paged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select, true

from core.conversation import Actor
from data import workflow
from data.models import Grid, Household, OutboxMessage, Staff, Ticket, TicketEvent, Unit, format_address
from data.reports import overdue_condition
from data.services import ServiceContext
from data.services.visibility import unit_scope, visible_filter

# "open" and "active" are written as what they exclude: most tickets match, and reading the table
# straight through is several times faster than looking each one up through the status index.
EXCLUDED = {"open": workflow.FINAL, "active": (workflow.RESOLVED, *workflow.FINAL), "all": ()}


@dataclass(frozen=True)
class BoardFilter:
    status: str = "open"  # open | active | all | one status
    tier: int | None = None
    grid_id: int | None = None
    unit_id: int | None = None
    category: str = ""
    item: str = ""
    emergency: bool = False
    overdue: bool = False
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    page: int = 1


@dataclass(frozen=True)
class BoardRow:
    public_no: str
    item: str
    category: str
    status: str
    tier: int
    urgent: bool
    acknowledged: bool
    unit: str
    address: str
    assignee: str
    description: str
    created_at: datetime
    due_at: datetime | None
    due_kind: str  # accept | resolve | ""
    seconds_left: float | None
    overdue: bool
    needs_verification: bool
    realerts: int = 0
    last_alert_at: datetime | None = None


@dataclass
class BoardPage:
    rows: list[BoardRow]
    pinned: list[BoardRow]
    total: int
    page: int
    pages: int
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def _due():  # type: ignore[no-untyped-def]
    waiting = Ticket.status.in_((workflow.SUBMITTED, workflow.REOPENED))
    return case((waiting, Ticket.accept_due_at), else_=Ticket.resolve_due_at)


def conditions(ctx: ServiceContext, actor: Actor, f: BoardFilter) -> list:  # type: ignore[type-arg]
    """The WHERE clause of a filtered board (always within what the actor may see)."""
    now = ctx.clock.now()
    conds = [visible_filter(actor)]
    if f.status in EXCLUDED:
        if EXCLUDED[f.status]:
            conds.append(Ticket.status.not_in(EXCLUDED[f.status]))
    else:
        conds.append(Ticket.status == f.status)
    if f.tier:
        conds.append(Ticket.tier == f.tier)
    if f.grid_id:
        conds.append(Ticket.grid_id == f.grid_id)
    if f.unit_id:
        conds.append(Ticket.unit_id == f.unit_id)
    if f.category:
        conds.append(Ticket.category == f.category)
    if f.item:
        conds.append(Ticket.item == f.item)
    if f.emergency:
        conds.append(Ticket.urgent.is_(True))
    if f.overdue:
        conds.append(overdue_condition(now))
    if f.date_from:
        conds.append(Ticket.created_at >= datetime.combine(f.date_from, datetime.min.time()))
    if f.date_to:
        conds.append(Ticket.created_at < datetime.combine(f.date_to + timedelta(days=1), datetime.min.time()))
    if f.q.strip():
        escaped = f.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(Ticket.description.like(f"%{escaped}%", escape="\\"))
    return conds


def board(ctx: ServiceContext, actor: Actor, f: BoardFilter, page_size: int = 50) -> BoardPage:
    """One page of the board: unacknowledged emergencies pinned on top, then by urgency and due time."""
    conds = conditions(ctx, actor, f)
    total = ctx.session.scalar(select(func.count(Ticket.id)).where(*conds)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, f.page), pages)
    due = _due()
    ids = list(
        ctx.session.scalars(
            select(Ticket.id)
            .where(*conds)
            .order_by(Ticket.urgent.desc(), due.is_(None), due, Ticket.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    )  # sorting ids only keeps the sorter small; the page's rows are read by id afterwards
    found = {t.id: t for t in ctx.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))} if ids else {}
    tickets = [found[i] for i in ids]
    pinned_q = select(Ticket).where(
        visible_filter(actor),
        Ticket.urgent == true(),
        Ticket.acknowledged_at.is_(None),
        Ticket.status.in_(workflow.ACTIVE),
    )
    pinned = list(ctx.session.scalars(pinned_q.order_by(Ticket.created_at).limit(50)))
    realerts = _realert_counts(ctx, [t.id for t in pinned])
    out = BoardPage(
        rows=rows(ctx, tickets),
        pinned=rows(ctx, pinned, realerts),
        total=total,
        page=page,
        pages=pages,
    )
    out.options = options(ctx, actor)
    return out


def rows(
    ctx: ServiceContext, tickets: list[Ticket], realerts: dict[int, int] | None = None
) -> list[BoardRow]:
    """Board rows with names looked up in one query each (units, households, assignees)."""
    s, now = ctx.session, ctx.clock.now()
    unit_ids = {t.unit_id for t in tickets if t.unit_id}
    hh_ids = {t.household_id for t in tickets if t.household_id}
    staff_ids = {t.assignee_id for t in tickets if t.assignee_id}
    units = dict(s.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    homes = {
        r.id: format_address(r.building, r.entrance, r.room)
        for r in s.execute(
            select(Household.id, Household.building, Household.entrance, Household.room).where(
                Household.id.in_(hh_ids)
            )
        )
    }
    names = (
        dict(s.execute(select(Staff.id, Staff.name).where(Staff.id.in_(staff_ids))).all())
        if staff_ids
        else {}
    )
    out = []
    for t in tickets:
        waiting = t.status in (workflow.SUBMITTED, workflow.REOPENED)
        due_at = t.accept_due_at if waiting else (t.resolve_due_at if t.status in workflow.ACTIVE else None)
        left = (due_at - now).total_seconds() if due_at else None
        out.append(
            BoardRow(
                public_no=t.public_no,
                item=ctx.catalog.item(t.item).name,
                category=ctx.catalog.category(t.category).name,
                status=t.status,
                tier=t.tier,
                urgent=t.urgent,
                acknowledged=t.acknowledged_at is not None,
                unit=units.get(t.unit_id, "") if t.unit_id else "",
                address=homes.get(t.household_id, "") if t.household_id else "",
                assignee=names.get(t.assignee_id, "") if t.assignee_id else "",
                description=t.description[:80],
                created_at=t.created_at,
                due_at=due_at,
                due_kind=("accept" if waiting else "resolve") if due_at else "",
                seconds_left=left,
                overdue=left is not None and left < 0,
                needs_verification=t.needs_verification,
                realerts=(realerts or {}).get(t.id, 0),
                last_alert_at=t.last_alert_at,
            )
        )
    return out


def _realert_counts(ctx: ServiceContext, ticket_ids: list[int]) -> dict[int, int]:
    """How many times each emergency was alerted again (alert rounds after the first)."""
    if not ticket_ids:
        return {}
    rounds = (
        select(OutboxMessage.ticket_id, func.count(func.distinct(OutboxMessage.created_at)))
        .where(OutboxMessage.ticket_id.in_(ticket_ids), OutboxMessage.kind == "emergency")
        .group_by(OutboxMessage.ticket_id)
    )
    return {tid: max(0, n - 1) for tid, n in ctx.session.execute(rounds) if tid is not None}


def options(ctx: ServiceContext, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """Choices for the filter form, within the actor's part of the community."""
    units = ctx.session.execute(
        select(Unit.id, Unit.name, Grid.id, Grid.name)
        .join(Grid, Grid.id == Unit.grid_id)
        .where(unit_scope(actor))
        .order_by(Grid.id, Unit.id)
    ).all()
    grids = {str(g): gname for _u, _n, g, gname in units}
    return {
        "grids": list(grids.items()),
        "units": [(str(u), name) for u, name, _g, _gn in units],
        "categories": [(c.code, c.name) for c in ctx.catalog.categories],
        "items": [(it.code, it.name) for it in ctx.catalog.items()],
        "statuses": [(s, s) for s in ("open", "active", "all", *workflow.STATUSES)],
    }


def last_change(ctx: ServiceContext) -> tuple[int, int]:
    """A cheap marker that moves whenever a matter is filed or changes, or an alert goes out."""
    events = ctx.session.scalar(select(func.max(TicketEvent.id))) or 0
    outbox = ctx.session.scalar(select(func.max(OutboxMessage.id))) or 0
    return events, outbox
