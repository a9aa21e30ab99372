"""Dialogue decisions: (state, parse, actor) -> Action. Pure: no I/O, no clock.

Order of precedence for one message:
  1. a leader's typed command (接单 N …), for bound accounts
  2. an emergency, in any state
  3. an unbound account may only bind
  4. a menu button's words (反映问题, 查询进度 …)
  5. while a question is pending: a key that picks one of the offered choices, else the state's rows
     in TABLE (first matching guard wins; PASS lets the message through as a new request)
  6. idle: a key picks from the main menu; words go by their intent (INTENT_ACTIONS)
Handlers (handlers/*) carry out the action and choose the next state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.commands import menu_action, parse_command
from core.conversation import Actor, DialogueState, State
from core.messages import Choice, Reply, picked
from handlers.menus import main_menu
from nlu.types import Parse

PASS = ""  # not an answer to the pending question: handle the message as a new request
RETRY = "dialogue.retry"  # ask the pending question again
# Clear new requests that may interrupt a pending question.
NEW_REQUESTS = ("query_status", "urge", "cancel", "human", "help", "goodbye", "thanks")


@dataclass(frozen=True)
class Action:
    name: str
    slots: dict[str, Any] = field(default_factory=dict)


Guard = Callable[[Parse, str | None], bool]


def yes(p: Parse, key: str | None) -> bool:
    return key is None and p.intent == "confirm"


def no(p: Parse, key: str | None) -> bool:
    return key is None and p.intent == "deny"


def no_without_address(p: Parse, key: str | None) -> bool:
    return no(p, key) and p.entities.address is None


def reported_again(p: Parse, key: str | None) -> bool:
    return p.intent == "report" and bool(p.item)


def new_request(p: Parse, key: str | None) -> bool:
    return p.intent in NEW_REQUESTS and p.confidence >= 0.6


def address(p: Parse, key: str | None) -> bool:
    return p.entities.address is not None


def ticket_no(p: Parse, key: str | None) -> bool:
    return bool(p.entities.ticket_no)


def rating(p: Parse, key: str | None) -> bool:
    if key is not None:
        return key in ("1", "2", "3")
    return p.entities.rating in (1, 2, 3) or p.intent in ("rate", "confirm")


def zero(p: Parse, key: str | None) -> bool:
    return key == "0"


def any_key_or_blank(p: Parse, key: str | None) -> bool:
    return key is not None or not p.text.strip()


def anything(p: Parse, key: str | None) -> bool:
    return True


# What an answer means in each waiting state (keys that pick an offered choice are decoded first).
TABLE: dict[State, tuple[tuple[Guard, str], ...]] = {
    State.REPORT_CONFIRM: (
        (yes, "report.commit"),
        (no, "report.fix"),
        (reported_again, "report.start"),
        (new_request, PASS),
        (anything, RETRY),
    ),
    State.REPORT_FIX: (
        (no, "report.drop"),
        (address, "report.address_given"),
        (new_request, PASS),
        (anything, RETRY),
    ),
    State.REPORT_ADDRESS: ((no_without_address, "report.drop"), (anything, "report.address_given")),
    State.REPORT_DESCRIPTION: (
        (no, "report.drop"),
        (zero, "report.drop"),
        (any_key_or_blank, RETRY),
        (anything, "report.description_given"),
    ),
    State.REPORT_CLARIFY: (
        (no, "report.ask_description"),
        (reported_again, "report.start"),
        (new_request, PASS),
        (anything, RETRY),
    ),
    State.PICK_TICKET: (
        (ticket_no, "ticket.pick"),
        (zero, "help.menu"),
        (no, "help.menu"),
        (new_request, PASS),
        (anything, RETRY),
    ),
    State.CANCEL_CONFIRM: (
        (yes, "cancel.commit"),
        (no, "cancel.keep"),
        (new_request, PASS),
        (anything, RETRY),
    ),
    State.RATE: ((rating, "rate.give"), (anything, PASS)),  # the rating can be given later by words
    State.LEADER_REASON: ((zero, "help.menu"), (no, "help.menu"), (anything, "leader.reason_given")),
    State.LEADER_TASK: ((new_request, PASS), (anything, RETRY)),
    State.BIND: ((anything, "bind.input"),),
}

INTENT_ACTIONS = {
    "report": "report.start",
    "query_status": "status.query",
    "urge": "urge.start",
    "cancel": "cancel.start",
    "rate": "rate.give",
    "human": "human.handoff",
    "greet": "help.greet",
    "help": "help.menu",
    "thanks": "help.thanks",
    "goodbye": "help.goodbye",
    "out_of_scope": "help.out_of_scope",
    "confirm": "help.not_understood",
    "deny": "help.not_understood",
}


def decide(state: DialogueState, parse: Parse, actor: Actor, threshold: float, guest: bool = False) -> Action:
    """What to do with one message. `guest`: an unregistered caller may still report (flagged for checking)."""
    key = parse.entities.digit
    if not key and actor.bound:  # staff commands need a bound account
        cmd = parse_command(parse.text) or parse_command(parse.normalized)
        if cmd is not None:
            return Action("leader.command", {"op": cmd.op, "ticket_no": cmd.ticket_no, "note": cmd.note})
    if parse.intent == "emergency" or (parse.urgent and parse.intent == "report"):
        return Action("emergency.report")
    if not actor.bound and not guest:
        return Action("bind.input")
    button = menu_action(parse.text)
    if button is not None:
        return Action(button)
    if state.name != State.IDLE:
        action = answer(state, parse, key)
        if action is not None:
            return action
    if key:
        return _chosen(picked(main_menu(actor), key)) or Action("help.not_understood")
    if parse.intent == "report" and _unsure(parse, threshold):
        return Action("report.clarify")
    return Action(INTENT_ACTIONS.get(parse.intent, "help.not_understood"))


def answer(state: DialogueState, parse: Parse, key: str | None) -> Action | None:
    """The message as an answer to the pending question; None lets it through as a new request."""
    chosen = _chosen(picked(offered(state), key))
    if chosen is not None:
        return chosen
    for guard, name in TABLE.get(state.name, ((anything, PASS),)):
        if guard(parse, key):
            return Action(name) if name != PASS else None
    return None


def offered(state: DialogueState) -> list[Choice]:
    """The choices of the question the state is waiting on (stored with it when it was asked)."""
    return [c for r in state.slots.get("prompt", ()) for c in Reply.from_json(r).choices]


def _chosen(choice: Choice | None) -> Action | None:
    if choice is None or not choice.action:
        return None
    return Action(choice.action, {"arg": choice.arg} if choice.arg is not None else {})


def _unsure(parse: Parse, threshold: float) -> bool:
    items = {a.item for a in parse.alternatives if a.intent == "report" and a.item}
    return parse.confidence < threshold and len(items) >= 2
