"""Cancelling (撤销) one's own ticket, after a yes/no confirmation."""

from __future__ import annotations

from core.conversation import State
from core.errors import NotFoundError
from core.messages import Reply
from data import workflow
from data.services.handling import cancel
from data.services.visibility import get_visible
from handlers.base import Result, Turn, ask, done, handler
from handlers.menus import CANCEL_CONFIRM
from handlers.picking import for_own_active


@handler("cancel.start")
def start(turn: Turn) -> Result:
    return for_own_active(turn, "cancel", "cancel.none", "cancel.which")


@handler("cancel.ticket")
def cancel_ticket(turn: Turn) -> Result:
    try:
        ticket = get_visible(turn.svc, turn.actor, turn.slots["ticket_no"])
    except NotFoundError:
        return done(Reply("status.not_found"))
    if not workflow.can(ticket.status, workflow.CANCELLED):
        return done(
            Reply(
                "cancel.not_allowed",
                {"ticket_no": ticket.public_no, "status": f"@status_word.{ticket.status}"},
            )
        )
    item = turn.svc.catalog.item(ticket.item).name
    return ask(
        [Reply("cancel.confirm", {"ticket_no": ticket.public_no, "item": item}, CANCEL_CONFIRM)],
        State.CANCEL_CONFIRM,
        ticket_no=ticket.public_no,
    )


@handler("cancel.commit")
def commit(turn: Turn) -> Result:
    no = turn.state.slots.get("ticket_no", "")
    try:
        ticket = get_visible(turn.svc, turn.actor, no)
    except NotFoundError:
        return done(Reply("status.not_found"))
    if not workflow.can(ticket.status, workflow.CANCELLED):
        return done(Reply("cancel.not_allowed", {"ticket_no": no, "status": f"@status_word.{ticket.status}"}))
    cancel(turn.svc, turn.actor, ticket)
    return done(Reply("cancel.done", {"ticket_no": no}))


@handler("cancel.keep")
def keep(turn: Turn) -> Result:
    return done(Reply("cancel.kept"))
