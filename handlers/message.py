"""A message (留言) for a person: the resident's own words, when the machine cannot place them."""

from __future__ import annotations

from core.conversation import State
from core.messages import Reply
from data.services.directory import grid_worker_of, leader_of_unit
from data.services.messages import leave_message
from handlers.base import Result, Turn, done, handler


def leave(turn: Turn, words: list[str]) -> Result:
    """File the words for the leader (grid worker when the unit has none) and say who will call back."""
    ticket = leave_message(turn.svc, turn.actor, words, unverified=turn.options.unverified_caller)
    person = leader_of_unit(turn.svc, ticket.unit_id) if ticket.unit_id else None
    if person is None and ticket.grid_id:
        person = grid_worker_of(turn.svc, ticket.grid_id)
    who = f"@tier.{ticket.tier}"
    return done(
        Reply(
            "message.left",
            {"assignee": who, "name": person.name if person else "", "ticket_no": ticket.public_no},
        )
    )


@handler("message.leave")
def leave_this(turn: Turn) -> Result:
    unclear = list(turn.state.slots.get("unclear", []))
    if turn.state.name == State.OFFER_PERSON:  # 「转给联户长」 picked: the words said before the offer
        return leave(turn, unclear)
    return leave(turn, [*unclear, turn.text])
