"""Satisfaction rating: 1 满意 / 2 基本满意 close the ticket; 3 不满意 reopens it one tier up."""

from __future__ import annotations

from core.conversation import State
from core.errors import NotFoundError
from core.messages import Reply
from data import workflow
from data.services.handling import rate
from data.services.visibility import get_visible, own_open
from handlers.base import Result, Turn, done, handler


@handler("rate.give")
def give(turn: Turn) -> Result:
    score = _score(turn)
    no = turn.state.slots.get("ticket_no") if turn.state.name == State.RATE else turn.parse.entities.ticket_no
    ticket = None
    if no:
        try:
            ticket = get_visible(turn.svc, turn.actor, no)
        except NotFoundError:
            ticket = None
    if ticket is None or ticket.status != workflow.RESOLVED:
        waiting = own_open(turn.svc, turn.actor, (workflow.RESOLVED,))
        ticket = waiting[0] if waiting else None
    if ticket is None:
        if turn.parse.intent == "rate" and (score in (None, 1, 2)):
            return done(Reply("rate.praise_thanks"))
        return done(Reply("rate.none"))
    if score is None and turn.parse.intent in ("rate", "confirm"):
        score = 1
    if score not in (1, 2, 3):
        return done(Reply("rate.none"))
    if rate(turn.svc, turn.actor, ticket, int(score), turn.text):
        return done(Reply("rate.reopened", {"ticket_no": ticket.public_no, "tier": f"@tier.{ticket.tier}"}))
    return done(Reply("rate.thanks"))


def _score(turn: Turn) -> int | None:
    """The score picked from the rating menu, or a bare key 1-3, or said in words (满意 / 不满意)."""
    picked = turn.slots.get("arg") or turn.parse.entities.digit
    if picked in ("1", "2", "3"):
        return int(picked)
    return turn.parse.entities.rating
