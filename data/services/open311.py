"""The write side of Open311: an integrator's service request becomes a normal ticket (routed,
escalated and told to the resident as usual), and every status change of any request is queued for
the integrators' webhooks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from core.catalog import Attribute
from core.conversation import Actor
from core.errors import LianhuError
from data.models import Community, Household, Open311Request, Resident
from data.services import ServiceContext
from data.services.directory import find_household
from data.services.integrators import CHANNEL, KeyInfo, audit
from data.services.tickets import add_event, create_ticket


class RequestRefused(LianhuError, ValueError):
    """A posted request the spec says to refuse: `code` is the HTTP status (400 or 404)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class Posted:
    """What a client posted (the spec's fields; attribute[CODE] as `attributes`)."""

    service_code: str
    description: str = ""
    lat: float | None = None
    long: float | None = None
    address_string: str = ""
    address_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    email: str = ""
    media_url: str = ""
    attributes: Mapping[str, list[str]] = field(default_factory=dict)
    # building, entrance, room read from address_string by the caller (the bot layer understands text)
    address_parts: tuple[str | None, str | None, str | None] | None = None


@dataclass(frozen=True)
class Filed:
    service_request_id: str
    service_notice: str


def digits(phone: str) -> str:
    """13800000301 from '+86 138-0000-0301'."""
    d = re.sub(r"\D", "", phone)
    return d[2:] if d.startswith("86") and len(d) == 13 else d


def resident_by_phone(ctx: ServiceContext, phone: str) -> Resident | None:
    """The one registered resident with this number (None when nobody or several share it)."""
    number = digits(phone)
    if len(number) < 7:
        return None
    found = list(ctx.session.scalars(select(Resident).where(Resident.phone == number).limit(2)))
    return found[0] if len(found) == 1 else None


def check_attributes(ctx: ServiceContext, posted: Posted) -> list[str]:
    """The answers to the item's questions as lines for the description; refuses what the spec refuses."""
    item = ctx.catalog.item(posted.service_code)
    lines = []
    for attr in item.attributes:
        values = [v for v in posted.attributes.get(attr.code, []) if v.strip()]
        if not values:
            if attr.required:
                raise RequestRefused(400, f"attribute[{attr.code}] is required for {item.code}")
            continue
        lines.append(ctx.words("open311.attribute", question=attr.description, answer=_answer(attr, values)))
    return lines


def _answer(attr: Attribute, values: list[str]) -> str:
    if attr.datatype in ("singlevaluelist", "multivaluelist"):
        names = dict(attr.values)
        if attr.datatype == "singlevaluelist" and len(values) > 1:
            raise RequestRefused(400, f"attribute[{attr.code}] takes one value")
        bad = [v for v in values if v not in names]
        if bad:
            raise RequestRefused(400, f"attribute[{attr.code}]: unknown value {bad[0]!r}")
        return "、".join(names[v] for v in values)
    if attr.datatype == "number":
        try:
            float(values[0])
        except ValueError as err:
            raise RequestRefused(400, f"attribute[{attr.code}] must be a number") from err
    return values[0][:200]


def file_request(ctx: ServiceContext, key: KeyInfo, posted: Posted) -> Filed:
    """Validate, then file the ticket in the caller's transaction, audited."""
    try:
        item = ctx.catalog.item(posted.service_code)
    except KeyError as err:
        raise RequestRefused(404, f"service_code {posted.service_code!r} not found") from err
    has_point = posted.lat is not None and posted.long is not None
    if not (has_point or posted.address_string.strip() or posted.address_id.strip()):
        raise RequestRefused(400, "a location is required: lat and long, address_string or address_id")
    lines = check_attributes(ctx, posted)
    resident = resident_by_phone(ctx, posted.phone) if posted.phone else None
    household = ctx.session.get(Household, resident.household_id) if resident else None
    if household is None and posted.address_parts:
        household = find_household(ctx, *posted.address_parts)
    community = ctx.session.scalar(select(Community.id).order_by(Community.id).limit(1))
    actor = Actor(
        identity_id=key.identity_id,
        channel=CHANNEL,
        external_id=str(key.id),
        role="unbound",
        name=key.name[:50],
        community_id=community,
    )
    words = "\n".join([posted.description.strip()[:1800], *lines]).strip() or item.name
    ticket = create_ticket(
        ctx,
        actor,
        item_code=item.code,
        description=words,
        household=household,
        about_resident_id=resident.id if resident else None,
    )
    ctx.session.add(
        Open311Request(
            ticket_id=ticket.id,
            api_key_id=key.id,
            lat=posted.lat,
            long=posted.long,
            address_string=posted.address_string[:300],
            media_url=posted.media_url[:500],
            resident_matched=resident is not None,
        )
    )
    name = f"{posted.first_name} {posted.last_name}".strip()
    if resident is None and (name or posted.phone or posted.email):
        contact = ctx.words("open311.contact", name=name, phone=digits(posted.phone), email=posted.email)
        add_event(ctx, ticket, "staff_note", actor, from_status=ticket.status, note=contact[:500])
    audit(
        ctx,
        key,
        "open311.post",
        f"key {key.id} ticket {ticket.public_no} resident matched: {resident is not None}",
    )
    hours = (
        int((ticket.accept_due_at - ticket.created_at).total_seconds() // 3600)
        if ticket.accept_due_at
        else 24
    )
    notice = ctx.words("open311.notice", tier=ctx.words(f"tier.{ticket.tier}"), hours=str(hours))
    return Filed(ticket.public_no, notice)
