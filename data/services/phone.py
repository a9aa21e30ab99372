"""What the phone line writes outside a dialogue turn: a recorded message becomes a call-back ticket,
and the registry's addresses become recognition hints while an address is being asked for."""

from __future__ import annotations

from sqlalchemy import select

from core.conversation import DialogueState
from data.models import Household, Resident
from data.services import ServiceContext
from data.services.conversations import save_state
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


def address_hints(ctx: ServiceContext, limit: int = 12) -> tuple[str, ...]:
    """Registered addresses written as callers say them ("3栋2单元502"), for the recognizer's prompt."""
    rows = ctx.session.scalars(select(Household).order_by(Household.id).limit(limit))
    return tuple(
        f"{h.building}栋{h.entrance}单元{h.room}" if h.entrance else f"{h.building}栋{h.room}" for h in rows
    )


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
