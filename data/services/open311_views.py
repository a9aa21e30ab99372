"""The read side of Open311 GeoReport v2: tickets as service requests, with the privacy rules.

A public view shows no names, phone numbers or room numbers: the address is the building and
entrance (栋/单元), and a resident's words have digit runs and the household's names scrubbed. A key
with the `private` scope sees the full address and the words as written. Internal staff notes are
never shown; status_notes come from the last status event.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from data import workflow
from data.models import Community, Grid, Household, Open311Request, Resident, Ticket, TicketEvent, Unit
from data.services import ServiceContext

# Lianhu status -> GeoReport status. Resolved counts as closed: the work is done and only the
# resident's rating is awaited; a reopened matter is open again.
STATUS_MAP = {s: "open" for s in workflow.ACTIVE} | {
    workflow.RESOLVED: "closed",
    workflow.CLOSED: "closed",
    workflow.CANCELLED: "closed",
}
BY_STATUS = {
    "open": tuple(s for s, v in STATUS_MAP.items() if v == "open"),
    "closed": tuple(s for s, v in STATUS_MAP.items() if v == "closed"),
}
STATUS_EVENTS = (*workflow.STATUSES, "created", "escalated")
FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
_DIGITS = re.compile(r"\d{3,}")


@dataclass(frozen=True)
class Query:
    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None  # naive UTC
    end: datetime | None = None
    statuses: tuple[str, ...] = ()  # open | closed
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class Page:
    requests: list[dict[str, Any]]
    has_more: bool


def iso(value: datetime | None, tz: str) -> str | None:
    """Naive UTC from the database -> ISO 8601 with the community's offset (2026-12-04T08:00:00+08:00)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC, microsecond=0).astimezone(ZoneInfo(tz)).isoformat()


def scrub(text: str, names: Sequence[str]) -> str:
    """Words fit for the public: runs of 3+ digits (phones, rooms) and known names masked."""
    for name in sorted({n for n in names if len(n) >= 2}, key=len, reverse=True):
        text = text.replace(name, "*" * len(name))
    return _DIGITS.sub(lambda m: "*" * len(m.group()), text)


def window(query: Query, now: datetime, default_days: int) -> tuple[datetime, datetime]:
    """The spec's date rule: without dates, the last `default_days` days; one date sets the other."""
    span = timedelta(days=default_days)
    if query.start and query.end:
        return query.start, query.end
    if query.start:
        return query.start, query.start + span
    if query.end:
        return query.end - span, query.end
    return now - span, now


def find(ctx: ServiceContext, query: Query, *, private: bool, descriptions: bool, default_days: int) -> Page:
    """One page of service requests, newest first."""
    q = select(Ticket).where(Ticket.kind == "request")
    if query.ids:
        q = q.where(Ticket.public_no.in_(query.ids))  # the spec: ids override every other filter
    else:
        start, end = window(query, ctx.clock.now(), default_days)
        q = q.where(Ticket.created_at >= start, Ticket.created_at <= end)
        if query.service_codes:
            q = q.where(Ticket.item.in_(query.service_codes))
        if query.statuses:
            wanted = [s for st in query.statuses for s in BY_STATUS.get(st, ())]
            q = q.where(Ticket.status.in_(wanted))
    q = q.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    q = q.offset((query.page - 1) * query.page_size).limit(query.page_size + 1)
    tickets = list(ctx.session.scalars(q))
    more = len(tickets) > query.page_size
    tickets = tickets[: query.page_size]
    return Page(views(ctx, tickets, private=private, descriptions=descriptions), more)


def one(ctx: ServiceContext, public_no: str, *, private: bool, descriptions: bool) -> dict[str, Any] | None:
    ticket = ctx.session.scalar(select(Ticket).where(Ticket.public_no == public_no, Ticket.kind == "request"))
    if ticket is None:
        return None
    return views(ctx, [ticket], private=private, descriptions=descriptions)[0]


def views(
    ctx: ServiceContext, tickets: Sequence[Ticket], *, private: bool, descriptions: bool
) -> list[dict[str, Any]]:
    """The spec's fields for each ticket, in a fixed number of queries whatever the page size."""
    if not tickets:
        return []
    s = ctx.session
    ids = [t.id for t in tickets]
    hh_ids = {t.household_id for t in tickets if t.household_id}
    households = (
        {h.id: h for h in s.scalars(select(Household).where(Household.id.in_(hh_ids)))} if hh_ids else {}
    )
    names: dict[int, list[str]] = {}
    if hh_ids and not private:
        for hid, name in s.execute(
            select(Resident.household_id, Resident.name).where(Resident.household_id.in_(hh_ids))
        ):
            names.setdefault(hid, []).append(name)
    last_ids = (
        select(func.max(TicketEvent.id))
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind.in_(STATUS_EVENTS))
        .group_by(TicketEvent.ticket_id)
    )
    events = {e.ticket_id: e for e in s.scalars(select(TicketEvent).where(TicketEvent.id.in_(last_ids)))}
    extras = {
        o.ticket_id: o for o in s.scalars(select(Open311Request).where(Open311Request.ticket_id.in_(ids)))
    }
    places = _places(ctx)
    out = []
    for t in tickets:
        hh = households.get(t.household_id) if t.household_id else None
        secret = names.get(t.household_id or 0, [])
        extra = extras.get(t.id)
        out.append(_fields(ctx, t, hh, events.get(t.id), extra, places, private, descriptions, secret))
    return out


def _places(ctx: ServiceContext) -> dict[str, dict[int, str]]:
    """Unit and grid names and the community's name (small tables, read once a call)."""
    s = ctx.session
    return {
        "unit": {i: n for i, n in s.execute(select(Unit.id, Unit.name))},
        "grid": {i: n for i, n in s.execute(select(Grid.id, Grid.name))},
        "community": {i: n for i, n in s.execute(select(Community.id, Community.name))},
    }


def agency(ctx: ServiceContext, t: Ticket, places: dict[str, dict[int, str]]) -> str:
    return ctx.words(
        f"open311.agency_{min(max(t.tier, 1), 3)}",
        unit=places["unit"].get(t.unit_id or 0, ""),
        grid=places["grid"].get(t.grid_id or 0, ""),
        community=places["community"].get(t.community_id, ""),
    )


def status_notes(
    ctx: ServiceContext, ev: TicketEvent | None, private: bool, secret: Sequence[str]
) -> str | None:
    if ev is None:
        return None
    step = ctx.words(f"open311.note_{ev.kind}", tier=ctx.words(f"tier.{ev.tier or 3}"))
    if ev.kind == "created" or not ev.note:
        return step
    note = ev.note if private else scrub(ev.note, secret)
    return ctx.words("open311.note_text", step=step, note=note[:300])


def _fields(
    ctx: ServiceContext,
    t: Ticket,
    hh: Household | None,
    ev: TicketEvent | None,
    extra: Open311Request | None,
    places: dict[str, dict[int, str]],
    private: bool,
    descriptions: bool,
    secret: Sequence[str],
) -> dict[str, Any]:
    item = ctx.catalog.item(t.item)
    if hh is not None:
        address: str | None = hh.address if private else _building(hh)
    else:
        address = (extra.address_string or None) if (extra and private) else None
    description: str | None = None
    if private:
        description = t.description
    elif descriptions:
        description = scrub(t.description, secret)
    expected = t.resolve_due_at if STATUS_MAP.get(t.status) == "open" else None
    return {
        "service_request_id": t.public_no,
        "status": STATUS_MAP.get(t.status, "open"),
        "status_notes": status_notes(ctx, ev, private, secret),
        "service_name": item.name,
        "service_code": t.item,
        "description": description,
        "agency_responsible": agency(ctx, t, places),
        "service_notice": None,
        "requested_datetime": iso(t.created_at, ctx.timezone),
        "updated_datetime": iso(t.updated_at, ctx.timezone),
        "expected_datetime": iso(expected, ctx.timezone),
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": extra.lat if extra else None,
        "long": extra.long if extra else None,
        "media_url": (extra.media_url or None) if extra else None,
    }


def _building(hh: Household) -> str:
    """栋 and 单元 only: enough to find the building, not the door."""
    return f"{hh.building} 栋 {hh.entrance} 单元" if hh.entrance else f"{hh.building} 栋"
