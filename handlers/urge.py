"""Urging (催办): record it and tell the assignee."""

from __future__ import annotations

from bot.errors import NotFoundError
from bot.messages import Reply
from data import workflow
from data.services.handling import urge
from data.services.tickets import get_visible, own_open
from handlers.base import Result, Turn, done, handler
from handlers.picking import offer


@handler("urge.start")
def start(turn: Turn) -> Result:
    if turn.parse.entities.ticket_no:
        turn.slots = {"ticket_no": turn.parse.entities.ticket_no}
        return urge_ticket(turn)
    tickets = own_open(turn.svc, turn.actor, workflow.ACTIVE)
    if not tickets:
        return done(Reply("urge.none"))
    if len(tickets) == 1:
        turn.slots = {"ticket_no": tickets[0].public_no}
        return urge_ticket(turn)
    return offer(turn, tickets, "urge.which", "urge")


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
