"""Menu, greetings, thanks, goodbye, not-understood, and re-asking an unclear answer."""

from __future__ import annotations

from core.conversation import DialogueState, State
from core.messages import Reply
from handlers.base import Result, Turn, ask, done, handler
from handlers.menus import OFFER_PERSON, main_menu
from handlers.message import leave


def menu_reply(turn: Turn) -> Reply:
    return Reply("menu.main", choices=main_menu(turn.actor))


@handler("help.menu")
def show_menu(turn: Turn) -> Result:
    return done(Reply("help.intro"), menu_reply(turn))


@handler("help.greet")
def greet(turn: Turn) -> Result:
    first = Reply("greet.hello_named", {"name": turn.actor.name}) if turn.actor.name else Reply("greet.hello")
    return done(first, menu_reply(turn))


@handler("help.thanks")
def thanks(turn: Turn) -> Result:
    return done(Reply("help.thanks"))


@handler("help.goodbye")
def goodbye(turn: Turn) -> Result:
    return done(Reply("help.goodbye"))


@handler("help.out_of_scope")
def out_of_scope(turn: Turn) -> Result:
    """What Lianhu can do, and a person one key away; the second such message in a row gets the
    offer to pass the resident's words to their leader."""
    earlier = list(turn.state.slots.get("unclear", [])) if turn.state.name == State.IDLE else []
    if earlier and worth_a_message(turn):
        words = [*earlier, turn.text]
        return ask([Reply("message.offer", choices=OFFER_PERSON)], State.OFFER_PERSON, unclear=words)
    unclear = [turn.text] if worth_a_message(turn) else []
    return Result(
        [Reply("help.out_of_scope"), menu_reply(turn)], DialogueState(State.IDLE, {"unclear": unclear})
    )


@handler("help.not_understood")
def not_understood(turn: Turn) -> Result:
    """Asked to say it again once; the second message in a row that cannot be placed goes to a person
    in the resident's own words (a bare yes or no with nothing pending gets the menu)."""
    if not turn.text:
        return done(Reply("help.empty"), menu_reply(turn))
    earlier = list(turn.state.slots.get("unclear", [])) if turn.state.name == State.IDLE else []
    if earlier and worth_a_message(turn):
        return leave(turn, [*earlier, turn.text])
    unclear = [turn.text] if worth_a_message(turn) else []
    return Result(
        [Reply("help.not_understood"), menu_reply(turn)], DialogueState(State.IDLE, {"unclear": unclear})
    )


def worth_a_message(turn: Turn) -> bool:
    return turn.parse.intent not in ("confirm", "deny") and len(turn.parse.normalized.strip()) >= 2


@handler("dialogue.retry")
def retry(turn: Turn) -> Result:
    """Ask the waiting question once more; the second time the resident's words (what they were
    reporting, and what could not be understood) go to a person instead of being dropped."""
    slots = dict(turn.state.slots)
    unclear = [*slots.get("unclear", []), turn.text] if turn.text else list(slots.get("unclear", []))
    if slots.get("retries", 0) >= 1:
        words = [slots["description"], *unclear] if slots.get("description") else unclear
        if any(len(w.strip()) >= 2 for w in words):
            return leave(turn, words)
        return done(Reply("help.not_understood_again"), menu_reply(turn))
    slots["retries"] = slots.get("retries", 0) + 1
    slots["unclear"] = unclear
    prompt = [Reply.from_json(r) for r in slots.get("prompt", [])]
    return Result([Reply("help.not_understood"), *prompt], DialogueState(turn.state.name, slots))
