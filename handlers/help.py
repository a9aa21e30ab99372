"""Menu, greetings, thanks, goodbye, not-understood, and re-asking an unclear answer."""

from __future__ import annotations

from core.conversation import DialogueState
from core.messages import Reply
from handlers.base import Result, Turn, done, handler
from handlers.menus import main_menu


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
    return done(Reply("help.out_of_scope"), menu_reply(turn))


@handler("help.not_understood")
def not_understood(turn: Turn) -> Result:
    if not turn.text:
        return done(Reply("help.empty"), menu_reply(turn))
    return done(Reply("help.not_understood"), menu_reply(turn))


@handler("dialogue.retry")
def retry(turn: Turn) -> Result:
    """Ask the waiting question once more; the second time offer the menu instead."""
    slots = dict(turn.state.slots)
    if slots.get("retries", 0) >= 1:
        return done(Reply("help.not_understood_again"), menu_reply(turn))
    slots["retries"] = slots.get("retries", 0) + 1
    prompt = [Reply.from_json(r) for r in slots.get("prompt", [])]
    return Result([Reply("help.not_understood"), *prompt], DialogueState(turn.state.name, slots))
