"""Telling staff: task pushes, emergency alerts (leader, grid worker, duty contact), cluster warnings."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from data.models import Alert, Household, Resident, Staff, Ticket, Unit
from data.resources import Resource
from data.services import ServiceContext
from data.services.directory import find_identity, grid_worker_of, leader_of_unit
from data.services.outbox import notify

ACCEPT_CHOICE = (("1", "choice.accept"),)


def tell_staff(
    ctx: ServiceContext,
    ticket: Ticket,
    staff_id: int,
    kind: str,
    key: str,
    event_id: int | str,
    params: dict[str, str] | None = None,
    choices: tuple[tuple[str, str], ...] = (),
) -> None:
    """One message about a ticket to one staff member (on every channel they are bound to)."""
    notify(
        ctx,
        kind=kind,
        key=key,
        params=params or task_params(ctx, ticket),
        staff_id=staff_id,
        ticket=ticket,
        event_id=event_id,
        choices=choices,
    )


def send_task(
    ctx: ServiceContext,
    ticket: Ticket,
    staff_id: int,
    event_id: int | str,
    params: dict[str, str] | None = None,
) -> None:
    """Push a task (new, escalated or reopened) to the staff member who must accept it; a request some
    service resources serve lists them, numbered, for 转介 N 序号 (菜单式服务)."""
    key = "leader.message_task" if ticket.kind == "message" else "leader.new_task"
    options = _options_for(ctx, ticket, staff_id)
    if options:
        key = "leader.new_task_resources"
        params = {**(params or task_params(ctx, ticket)), "options": options}
    tell_staff(ctx, ticket, staff_id, "new_task", key, event_id, params, ACCEPT_CHOICE)


SUGGEST_MAX = 5  # resources listed in a leader's task message


def suggestions(ctx: ServiceContext, ticket: Ticket) -> list[Resource]:
    """The resources that serve a ticket's item, numbered from 1 (「转介 单号 2」 picks the second)."""
    return ctx.resources.serving(ticket.item)[:SUGGEST_MAX]


def options_text(ctx: ServiceContext, resources: list[Resource]) -> str:
    lines = [
        ctx.words(
            "refer.option", n=i, name=r.name, kind=ctx.strings.text(f"resource_kind.{r.kind}"), hours=r.hours
        )
        for i, r in enumerate(resources, start=1)
    ]
    return "；".join(lines)


def _options_for(ctx: ServiceContext, ticket: Ticket, staff_id: int) -> str:
    """The numbered resources a task's holder may refer it to ('' for emergencies, messages, providers)."""
    if ticket.urgent or ticket.kind != "request":
        return ""
    found = suggestions(ctx, ticket)
    if not found:
        return ""
    staff = ctx.session.get(Staff, staff_id)
    return options_text(ctx, found) if staff is not None and staff.role != "provider" else ""


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


def emergency_recipients(ctx: ServiceContext, ticket: Ticket) -> list[Staff]:
    """Leader, grid worker and the community duty contact, once each."""

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
        "description": _excerpt(ticket.description, 200 if ticket.kind == "message" else 60),
        "tier": f"@tier.{ticket.tier}",
    }


def _excerpt(text: str, limit: int) -> str:
    if not text:
        return ""
    return (text[:limit] + "…" if len(text) > limit else text).rstrip("。") + "。"


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
            label = unit.name if scope == "unit" and unit else ctx.words("note.this_grid")
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
