"""Dialogue decisions: (state, parse, actor) -> Action. Pure: no I/O, no clock.

Named states (stored per identity in the database):
  idle · report_confirm · report_fix · report_address · report_description · report_clarify
  pick_ticket · cancel_confirm · rate · leader_reason · bind
Handlers (handlers/*) carry out the action and choose the next state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.commands import menu_action, parse_command
from data.services.conversations import DialogueState
from data.services.directory import Actor
from nlu.types import Parse

END = "idle"


@dataclass(frozen=True)
class Action:
    name: str
    slots: dict[str, Any] = field(default_factory=dict)


RESIDENT_MENU = {"1": "report.ask", "2": "status.query", "3": "human.leader", "0": "human.handoff"}
STAFF_MENU = {"1": "leader.tasks", "2": "report.ask", "3": "status.query", "0": "human.handoff"}
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
    digit = parse.entities.digit
    if not digit and actor.bound:  # staff commands need a bound account
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
    if state.name != END:
        action = _in_state(state, parse, digit)
        if action is not None:
            return action
    if digit:
        menu = STAFF_MENU if actor.is_staff else RESIDENT_MENU
        return Action(menu.get(digit, "help.not_understood"))
    if parse.intent == "report" and _unsure(parse, threshold):
        return Action("report.clarify")
    return Action(INTENT_ACTIONS.get(parse.intent, "help.not_understood"))


def _unsure(parse: Parse, threshold: float) -> bool:
    items = {a.item for a in parse.alternatives if a.intent == "report" and a.item}
    return parse.confidence < threshold and len(items) >= 2


def _yes(parse: Parse, digit: str | None) -> bool:
    return digit == "1" or (digit is None and parse.intent == "confirm")


def _no(parse: Parse, digit: str | None) -> bool:
    return digit == "2" or (digit is None and parse.intent == "deny")


def _in_state(state: DialogueState, parse: Parse, digit: str | None) -> Action | None:
    """Answers to the question the state asked; None lets a new request through."""
    name = state.name
    if name == "report_confirm":
        if _yes(parse, digit):
            return Action("report.commit")
        if _no(parse, digit):
            return Action("report.fix")
        if parse.intent == "report" and parse.item:
            return Action("report.start")  # the resident described the problem again
        return _retry_unless_new(parse)
    if name == "report_fix":
        table = {"1": "report.ask_address", "2": "report.ask_description", "3": "report.drop"}
        if digit in table:
            return Action(table[digit])
        if parse.intent == "deny":
            return Action("report.drop")
        if parse.entities.address is not None:
            return Action("report.address_given")
        return _retry_unless_new(parse)
    if name == "report_address":
        if parse.intent == "deny" and parse.entities.address is None:
            return Action("report.drop")
        return Action("report.address_given")
    if name == "report_description":
        if parse.intent == "deny" or digit == "0":
            return Action("report.drop")
        if digit or not parse.text.strip():
            return Action("dialogue.retry")
        return Action("report.description_given")
    if name == "report_clarify":
        if digit in ("1", "2"):
            return Action("report.choose", {"index": int(digit) - 1})
        if digit == "3" or parse.intent == "deny":
            return Action("report.ask_description")
        if parse.intent == "report" and parse.item:
            return Action("report.start")
        return _retry_unless_new(parse)
    if name == "pick_ticket":
        if digit and digit != "0":
            return Action("ticket.pick", {"index": int(digit) - 1})
        if parse.entities.ticket_no:
            return Action("ticket.pick", {"ticket_no": parse.entities.ticket_no})
        if digit == "0" or parse.intent == "deny":
            return Action("help.menu")
        return _retry_unless_new(parse)
    if name == "cancel_confirm":
        if _yes(parse, digit):
            return Action("cancel.commit")
        if _no(parse, digit):
            return Action("cancel.keep")
        return _retry_unless_new(parse)
    if name == "rate":
        score = _score(parse, digit)
        if score is not None:
            return Action("rate.give", {"score": score})
        return None  # a new request: the rating can be given later by words
    if name == "leader_reason":
        if digit == "0" or parse.intent == "deny":
            return Action("help.menu")
        return Action(
            "leader.command",
            {"op": "escalate", "ticket_no": state.slots.get("ticket_no"), "note": parse.text.strip()},
        )
    if name == "leader_task":
        ops = {"1": "accept", "2": "in_progress", "3": "resolve", "4": "escalate"}
        if digit in ops:
            return Action(
                "leader.command", {"op": ops[digit], "ticket_no": state.slots.get("ticket_no"), "note": ""}
            )
        if digit == "0":
            return Action("leader.tasks")
        return _retry_unless_new(parse)
    if name == "bind":
        return Action("bind.input")
    return None


def _score(parse: Parse, digit: str | None) -> int | None:
    if digit in ("1", "2", "3"):
        return int(digit)
    if parse.entities.rating in (1, 2, 3):
        return parse.entities.rating
    if parse.intent == "confirm":
        return 1
    if parse.intent == "rate":
        return 1
    return None


def _retry_unless_new(parse: Parse) -> Action | None:
    """An unclear answer is asked again; a clear new request (status, help...) goes through."""
    if (
        parse.intent in ("query_status", "urge", "cancel", "human", "help", "goodbye", "thanks")
        and parse.confidence >= 0.6
    ):
        return None
    return Action("dialogue.retry")
