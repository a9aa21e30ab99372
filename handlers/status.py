"""Reading back the status of the resident's tickets (newest first, status and last step)."""

from __future__ import annotations

from core.errors import NotFoundError
from core.messages import Reply
from data.models import Ticket
from data.services.visibility import TicketView, get_visible, own_open_views, view
from handlers.base import Result, Turn, done, handler
from handlers.message import leave

MAX_LINES = 5


def ticket_lines(turn: Turn, ticket: Ticket) -> list[Reply]:
    return view_lines(turn, view(turn.svc, ticket))


def view_lines(turn: Turn, v: TicketView) -> list[Reply]:
    status = "resolved" if v.status == "resolved" else v.status
    replies = [
        Reply(
            "status.line",
            {
                "ticket_no": v.public_no,
                "item": turn.svc.catalog.item(v.item).name,
                "status": f"@status_word.{status}",
            },
        )
    ]
    if v.last_note:
        replies.append(Reply("event.note", {"note": v.last_note}))
    return replies


@handler("status.query")
def query(turn: Turn) -> Result:
    no = turn.parse.entities.ticket_no
    if no:
        turn.slots = {"ticket_no": no}
        return one(turn)
    tickets = own_open_views(turn.svc, turn.actor)
    if not tickets and turn.parse.complaint:
        return leave(turn, [turn.text])  # a complaint about something never filed here: a person reads it
    if not tickets:
        return done(Reply("status.none"))
    replies = [Reply("status.header", {"count": str(len(tickets))})]
    for v in tickets[:MAX_LINES]:
        replies.extend(view_lines(turn, v))
    if len(tickets) > MAX_LINES:
        replies.append(Reply("status.more", {"count": str(len(tickets) - MAX_LINES)}))
    return done(*replies)


@handler("status.ticket")
def one(turn: Turn) -> Result:
    try:
        ticket = get_visible(turn.svc, turn.actor, turn.slots["ticket_no"])
    except NotFoundError:
        return done(Reply("status.not_found"))
    return done(*ticket_lines(turn, ticket))
