"""Urging (催办): record it and tell the assignee."""

from __future__ import annotations

from core.errors import NotFoundError
from core.messages import Reply
from data import workflow
from data.services.handling import urge
from data.services.visibility import get_visible
from handlers.base import Result, Turn, done, handler
from handlers.picking import for_own_active


@handler("urge.start")
def start(turn: Turn) -> Result:
    return for_own_active(turn, "urge", "urge.none", "urge.which", ask_when_none=True)


@handler("urge.ticket")
def urge_ticket(turn: Turn) -> Result:
    try:
        ticket = get_visible(turn.svc, turn.actor, turn.slots["ticket_no"])
    except NotFoundError:
        return done(Reply("status.not_found"))
    if ticket.status not in workflow.ACTIVE:
        return done(
            Reply(
                "cancel.not_allowed",
                {"ticket_no": ticket.public_no, "status": f"@status_word.{ticket.status}"},
            )
        )
    if not urge(turn.svc, turn.actor, ticket):
        return done(Reply("urge.too_soon", {"ticket_no": ticket.public_no}))
    return done(Reply("urge.done", {"ticket_no": ticket.public_no, "assignee": f"@tier.{ticket.tier}"}))
