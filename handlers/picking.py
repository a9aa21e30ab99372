"""Choosing one of several tickets by number or by menu digit (status, urge, cancel, leader tasks)."""

from __future__ import annotations

from core.conversation import State
from core.errors import NotFoundError
from core.messages import Choice, Reply
from data import workflow
from data.models import Ticket
from data.services.visibility import get_visible, own_open
from handlers.base import REGISTRY, Result, Turn, ask, done, handler
from handlers.message import leave

MAX_CHOICES = 8


def ticket_choices(turn: Turn, tickets: list[Ticket]) -> tuple[Choice, ...]:
    """1 100023 水管漏水 2 …: picking one runs `ticket.pick` with its number."""
    return tuple(
        Choice(
            str(i + 1),
            text=f"{t.public_no} {turn.svc.catalog.item(t.item).name}",
            action="ticket.pick",
            arg=t.public_no,
        )
        for i, t in enumerate(tickets[:MAX_CHOICES])
    )


def offer(turn: Turn, tickets: list[Ticket], question: str, purpose: str) -> Result:
    """Ask which ticket: 1 100023 水管漏水 2 ..."""
    return ask([Reply(question, choices=ticket_choices(turn, tickets))], State.PICK_TICKET, purpose=purpose)


def for_own_active(
    turn: Turn, purpose: str, none_key: str, which_key: str, ask_when_none: bool = False
) -> Result:
    """Run `<purpose>.ticket` on the ticket the resident named, their only active one, or one they pick.

    With `ask_when_none`, a resident with nothing open is asked what happened instead of being told there
    is nothing to act on: 「你们快点派个人来」 is a plea about something not yet told."""
    if turn.parse.entities.ticket_no:
        turn.slots = {"ticket_no": turn.parse.entities.ticket_no}
        return REGISTRY[f"{purpose}.ticket"](turn)
    tickets = own_open(turn.svc, turn.actor, workflow.ACTIVE)
    if not tickets and turn.parse.complaint:
        return leave(turn, [turn.text])  # urging about something never filed here: a person reads it
    if not tickets and ask_when_none:
        return ask([Reply(none_key), Reply("report.ask_description")], State.REPORT_DESCRIPTION)
    if not tickets:
        return done(Reply(none_key))
    if len(tickets) == 1:
        turn.slots = {"ticket_no": tickets[0].public_no}
        return REGISTRY[f"{purpose}.ticket"](turn)
    return offer(turn, tickets, which_key, purpose)


@handler("ticket.pick")
def pick(turn: Turn) -> Result:
    """Resolve the picked ticket, then run the action the question was for."""
    slots = turn.state.slots
    no = turn.slots.get("arg") or turn.parse.entities.ticket_no
    if not no:
        return REGISTRY["dialogue.retry"](turn)
    try:
        get_visible(turn.svc, turn.actor, no)
    except NotFoundError:
        return REGISTRY["dialogue.retry"](turn)
    purpose = slots.get("purpose", "status")
    turn.slots = {"ticket_no": no}
    return REGISTRY[f"{purpose}.ticket"](turn)
