"""Emergencies: file at once (no confirmation), alert leader + grid worker + duty, tell 120/110/119."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from core.messages import Reply
from data.models import Community, Household
from data.services.directory import find_household
from data.services.risk import CONFIRMED, record_answer
from data.services.tickets import create_ticket
from handlers.base import Result, Turn, done, handler


@handler("emergency.report")
def emergency(turn: Turn) -> Result:
    svc, actor, p = turn.svc, turn.actor, turn.parse
    item = svc.catalog.place(p.item, p.category, fallback=True)
    assert item is not None
    addr = p.entities.address
    household = find_household(svc, addr.building, addr.unit, addr.room) if addr else None
    if household is None and actor.household_id:
        household = svc.session.get(Household, actor.household_id)
    if actor.community_id is None:
        community = svc.session.scalar(select(Community).order_by(Community.id).limit(1))
        if community is None:
            return done(Reply("emergency.call_numbers"))
        actor = replace(actor, community_id=community.id)
    ticket = create_ticket(
        svc,
        actor,
        item_code=item,
        description=turn.text[:500],
        household=household,
        about_resident_id=actor.resident_id,
        urgent=True,
        needs_verification=not actor.bound,
    )
    if turn.slots.get("check"):  # raised by the answer to the safety question
        record_answer(svc, turn.slots["check"], turn.slots.get("outcome", CONFIRMED), ticket.id)
    replies = [
        Reply("emergency.alert"),
        Reply("emergency.call_numbers"),
        Reply("report.created_urgent", {"ticket_no": ticket.public_no}),
    ]
    if household is None:
        replies.append(Reply("emergency.unknown"))
    return done(*replies)
