"""Every fixed menu, declared once: the digit, its label (a string-catalog key) and the action it picks.

A handler offers a menu with its reply; the dialogue decodes a key press with the same declaration
(the main menus directly, the others from the question stored in the dialogue state), and each
channel shows it its own way: buttons, numbered text, or 「…请按 1」 on the phone.
"""

from __future__ import annotations

from core.conversation import Actor
from core.messages import Choice, menu
from data.services.handling import RATING  # noqa: F401 - offered by the service that asks for a rating

MAIN = menu(
    ("1", "choice.report", "report.ask"),
    ("2", "choice.status", "status.query"),
    ("3", "choice.leader", "human.leader"),
    ("0", "choice.human", "human.handoff"),
)
# The phone's greeting offers the main menu without 3 (找联户长): a shorter prompt to listen to.
PHONE_MAIN = tuple(c for c in MAIN if c.digit != "3")
STAFF = menu(
    ("1", "choice.my_tasks", "leader.tasks"),
    ("2", "choice.report", "report.ask"),
    ("3", "choice.status", "status.query"),
    ("0", "choice.human", "human.handoff"),
)
REPORT_CONFIRM = menu(("1", "choice.yes", "report.commit"), ("2", "choice.no", "report.fix"))
# On a keypad line, 2 lets the caller simply say it again (the fix menu is a lot to listen to).
REPORT_CONFIRM_KEYPAD = menu(("1", "choice.yes", "report.commit"), ("2", "choice.say_again", "report.redo"))
REPORT_FIX = menu(
    ("1", "choice.edit_address", "report.ask_address"),
    ("2", "choice.edit_description", "report.ask_description"),
    ("3", "choice.drop", "report.drop"),
)
CLARIFY_NEITHER = Choice("3", key="choice.neither", action="report.ask_description")
CANCEL_CONFIRM = menu(("1", "choice.cancel_it", "cancel.commit"), ("2", "choice.keep_it", "cancel.keep"))
OFFER_PERSON = menu(("1", "choice.pass_on", "message.leave"), ("2", "choice.no_need", "help.menu"))
SERVICE_OFFER = menu(("1", "choice.open_for_me", "service.request"), ("2", "choice.no_need", "help.menu"))
SAFETY = menu(("1", "choice.in_danger", "safety.confirmed"), ("2", "choice.not_in_danger", "safety.declined"))
TASK = menu(
    ("1", "choice.accept", "leader.step", "accept"),
    ("2", "choice.in_progress", "leader.step", "in_progress"),
    ("3", "choice.resolve", "leader.step", "resolve"),
    ("4", "choice.escalate", "leader.step", "escalate"),
    ("5", "choice.refer", "refer.menu"),
    ("0", "choice.back", "leader.tasks"),
)
# A service provider's account: its referred tasks, and the steps it may take on one.
PROVIDER = menu(("1", "choice.my_tasks", "leader.tasks"), ("0", "choice.human", "human.handoff"))
PROVIDER_TASK = menu(
    ("1", "choice.accept", "leader.step", "accept"),
    ("2", "choice.in_progress", "leader.step", "in_progress"),
    ("3", "choice.resolve", "leader.step", "resolve"),
    ("4", "choice.give_back", "leader.step", "return"),
    ("0", "choice.back", "leader.tasks"),
)


def main_menu(actor: Actor) -> tuple[Choice, ...]:
    if actor.role == "provider":
        return PROVIDER
    return STAFF if actor.is_staff else MAIN
