"""Words the machine could not place reach a person: a message (留言) for the resident's leader (the
grid worker when the unit has none), filed as a ticket of kind `message`, so that it is pushed as a
task, has a deadline and escalates like any other matter. A phone call's recording is attached."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from core.conversation import Actor
from data.models import Community, Household, Ticket
from data.services import ServiceContext
from data.services.tickets import add_event, create_ticket

MESSAGE = "message"
RECORDING_EVENT = "recording"


def leave_message(
    ctx: ServiceContext,
    actor: Actor,
    words: list[str],
    *,
    item_code: str | None = None,
    unverified: bool = False,
) -> Ticket:
    """File what the resident said, in their own words, for a person to read and call back."""
    said = [w.strip() for w in words if w and w.strip()]
    description = ctx.words(
        "note.message", text="／".join(dict.fromkeys(said)) or ctx.words("note.message_empty")
    )
    household = ctx.session.get(Household, actor.household_id) if actor.household_id else None
    if actor.community_id is None and household is None:
        community = ctx.session.scalar(select(Community.id).order_by(Community.id).limit(1))
        actor = replace(actor, community_id=community)
    item = item_code or ctx.catalog.fallback
    return create_ticket(
        ctx,
        actor,
        item_code=item,
        description=description,
        household=household,
        about_resident_id=actor.resident_id,
        needs_verification=unverified or not actor.bound,
        kind=MESSAGE,
    )


def attach_recording(ctx: ServiceContext, ticket_no: str, path: str) -> None:
    """Keep where the caller's own voice is (the workbench plays it; retention deletes it in time)."""
    ticket = ctx.session.scalar(select(Ticket).where(Ticket.public_no == ticket_no))
    if ticket is not None:
        add_event(ctx, ticket, RECORDING_EVENT, None, note=path)
