"""What the phone line writes outside a dialogue turn: a recorded message becomes a call-back ticket,
and the registry's addresses become recognition hints while an address is being asked for."""

from __future__ import annotations

from sqlalchemy import select

from data.models import Household
from data.services import ServiceContext
from data.services.directory import actor_for, find_household, get_or_create_identity
from data.services.tickets import add_event, create_ticket

CALLBACK_EVENT = "callback_requested"


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
    said = transcript.strip() or "（留言未能识别，请听录音）"
    ticket = create_ticket(
        ctx,
        actor,
        item_code=item_code,
        description=f"电话留言，请回电 {number}：{said}",
        household=household,
        about_resident_id=None,
        needs_verification=not actor.bound,
    )
    add_event(ctx, ticket, CALLBACK_EVENT, actor, note=f"recording: {recording}")
    return ticket.public_no
