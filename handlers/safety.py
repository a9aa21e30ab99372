"""The safety question: a message that may mean someone is in danger is asked about before anything
else is done. Yes, silence (on the phone) or a second unclear answer raise the alert (handlers/
emergency.py, on the message that raised the question); no lets that message go on as it was meant."""

from __future__ import annotations

from core.conversation import State
from core.messages import Reply
from data.services.risk import record_question
from handlers.base import Result, Turn, ask, handler
from handlers.menus import SAFETY


@handler("safety.ask")
def ask_safety(turn: Turn) -> Result:
    check = record_question(turn.svc, turn.actor, turn.parse.risk_cues)
    return ask(
        [Reply("safety.question", choices=SAFETY)],
        State.SAFETY_CHECK,
        text=turn.text,
        check=check,
        cues=list(turn.parse.risk_cues),
    )


@handler("safety.retry")
def retry(turn: Turn) -> Result:
    slots = {k: v for k, v in turn.state.slots.items() if k != "prompt"}
    slots["retries"] = slots.get("retries", 0) + 1
    return ask([Reply("safety.again", choices=SAFETY)], State.SAFETY_CHECK, **slots)
