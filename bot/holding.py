"""A question left pending when the resident turns to something else is held, not lost: it travels
with the new conversation's state and is asked again (「我们接着刚才的：…」) once that is done. Pure."""

from __future__ import annotations

from bot.dialogue import NOT_RESUMED, Action
from core.conversation import DialogueState, State
from core.messages import Reply
from handlers.base import Result

HELD = "held"


def hold(start: DialogueState, action: Action, result: Result) -> Result:
    """The turn's result with the held question carried along, or asked again when nothing else is
    pending. After an emergency the held question waits for the resident's next message instead."""
    held = start.slots.get(HELD)
    if action.switch and start.name not in NOT_RESUMED:
        held = DialogueState(start.name, dict(start.slots)).to_json()
    if not held:
        return result
    if result.state.name != State.IDLE:
        result.state.slots.setdefault(HELD, held)
        return result
    if action.name == "emergency.report":
        return Result(result.replies, DialogueState(State.IDLE, {HELD: held}))
    return resume(result, DialogueState.from_json(held))


def resume(result: Result, pending: DialogueState) -> Result:
    prompt = [Reply.from_json(r) for r in pending.slots.get("prompt", [])]
    if not prompt:
        return result
    pending.slots["retries"] = 0
    return Result([*result.replies, Reply("dialogue.resume"), *prompt], pending)
