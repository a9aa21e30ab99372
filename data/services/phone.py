"""What the phone line writes outside a dialogue turn: a recorded message becomes a call-back ticket,
and the registry's addresses become recognition hints while an address is being asked for (on the
phone and in voice notes)."""

from __future__ import annotations

from sqlalchemy import select

from core.conversation import DialogueState, State
from data.models import Household, Identity, Resident
from data.services import ServiceContext
from data.services.conversations import load_state, save_state
from data.services.directory import actor_for, find_household, get_or_create_identity
from data.services.tickets import add_event, create_ticket

CALLBACK_EVENT = "callback_requested"


def bind_caller(ctx: ServiceContext, channel: str, number: str) -> tuple[bool, str]:
    """Find or create the caller's identity, bind it to the resident whose registered phone this is
    (when exactly one is), and start the call's conversation afresh (a dropped call must not leave a
    pending question). Returns (known, name)."""
    ident = get_or_create_identity(ctx, channel, number)
    if ident.resident_id is None and ident.staff_id is None:
        matches = list(ctx.session.scalars(select(Resident).where(Resident.phone == number).limit(2)))
        if len(matches) == 1:
            ident.resident_id = matches[0].id
    name = ""
    if ident.resident_id is not None:
        res = ctx.session.get(Resident, ident.resident_id)
        name = res.name if res else ""
    save_state(ctx, ident.id, DialogueState())
    return ident.resident_id is not None or ident.staff_id is not None, name


def _said(h: Household) -> str:
    return f"{h.building}栋{h.entrance}单元{h.room}" if h.entrance else f"{h.building}栋{h.room}"


def address_hints(ctx: ServiceContext, limit: int = 12) -> tuple[str, ...]:
    """Registered addresses written as callers say them ("3栋2单元502"), for the recognizer's prompt."""
    return tuple(_said(h) for h in ctx.session.scalars(select(Household).order_by(Household.id).limit(limit)))


def _identity(ctx: ServiceContext, channel: str, external_id: str) -> Identity | None:
    return ctx.session.scalar(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    )


def _near_home(ctx: ServiceContext, ident: Identity | None, limit: int) -> tuple[str, ...]:
    home = ctx.session.get(Resident, ident.resident_id) if ident and ident.resident_id is not None else None
    own = ctx.session.get(Household, home.household_id) if home is not None else None
    if own is None:
        return address_hints(ctx, limit)
    near = ctx.session.scalars(
        select(Household)
        .where(Household.unit_id == own.unit_id, Household.id != own.id)
        .order_by(Household.id)
        .limit(limit - 1)
    )
    return (_said(own), *(_said(h) for h in near))


def own_address_hints(
    ctx: ServiceContext, channel: str, external_id: str, limit: int = 12
) -> tuple[str, ...]:
    """Addresses the sender is likely to say: their own registered address first, then their unit's
    neighbours (a resident mostly reports what is near); the registry's for someone not registered."""
    return _near_home(ctx, _identity(ctx, channel, external_id), limit)


def note_hints(ctx: ServiceContext, channel: str, external_id: str, limit: int = 12) -> tuple[str, ...]:
    """Recognition hints for a voice note: the sender's addresses (own_address_hints) while their
    dialogue waits for an address, else none."""
    ident = _identity(ctx, channel, external_id)
    if ident is None or load_state(ctx, ident.id).name is not State.REPORT_ADDRESS:
        return ()
    return _near_home(ctx, ident, limit)


def file_callback_ticket(
    ctx: ServiceContext,
    number: str,
    *,
    transcript: str,
    item_code: str,
    recording: str,
    address: tuple[str | None, str | None, str | None] = (None, None, None),
) -> str | None:
    """File the caller's recorded message as a ticket flagged for a call-back; returns its number.

    None when nobody can be routed to (an unknown number that named no registered address): the
    caller then gets the engine's plain hand-off instead. An unknown number's ticket is also flagged
    for the leader to verify."""
    ident = get_or_create_identity(ctx, "phone", number)
    actor = actor_for(ctx, ident)
    household = find_household(ctx, *address) if any(address) else None
    if actor.community_id is None and household is None:
        return None
    said = transcript.strip() or ctx.words("note.message_unheard")
    ticket = create_ticket(
        ctx,
        actor,
        item_code=item_code,
        description=ctx.words("note.phone_message", phone=number, text=said),
        household=household,
        about_resident_id=None,
        needs_verification=not actor.bound,
    )
    add_event(ctx, ticket, CALLBACK_EVENT, actor, note=f"recording: {recording}")
    return ticket.public_no
