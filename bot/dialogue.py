"""Dialogue decisions: (state, parse, actor) -> Action. Pure: no I/O, no clock.

Order of precedence for one message:
  1. a leader's typed command (接单 N …), for bound accounts
  2. an emergency, in any state; a suspected risk gets the safety question first, in any state
  3. an unbound account may only bind
  4. a menu button's words (反映问题, 查询进度 …)
  5. while a question is pending: a key that picks one of the offered choices, else the state's rows
     in TABLE (first matching guard wins; PASS lets the message through as a new request, a report of
     something else is taken as a new report): the pending question is then held and asked again
     once the new request is done (Action.switch; the engine keeps the held question)
  6. idle: a key picks from the main menu; words go by their intent (INTENT_ACTIONS); a long message
     shaped like a complaint that understanding cannot place goes to a person (留言)
Handlers (handlers/*) carry out the action and choose the next state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.commands import activity_words, menu_action, parse_command
from bot.notice_words import parse_draft, parse_figures, parse_vote, stop_calls
from core.conversation import Actor, DialogueState, State
from core.messages import Choice, Reply, picked
from handlers.menus import main_menu
from nlu.asking import asks_for_service
from nlu.types import Parse

PASS = ""  # not an answer to the pending question: handle the message as a new request
RETRY = "dialogue.retry"  # ask the pending question again
# Clear new requests that may interrupt a pending question.
NEW_REQUESTS = ("query_status", "urge", "cancel", "human", "help", "goodbye", "thanks")


@dataclass(frozen=True)
class Action:
    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    switch: bool = False  # a new request while a question was pending: hold that question, ask it after
    replay: str | None = None  # act on this earlier message (the one the safety question was about)


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


def safe(p: Parse, key: str | None) -> bool:
    """「没有」「没事」「不是」… as the start of an answer to 「您现在有危险吗？」 (with more said after it)."""
    return key is None and p.risk is None and p.normalized.lstrip().startswith(SAFE_ANSWERS)


SAFE_ANSWERS = ("没有", "没得", "莫得", "没事", "不是", "不用", "没危险", "安全", "不危险", "没得事")


def blank(p: Parse, key: str | None) -> bool:
    return key is None and not p.text.strip()


def anything(p: Parse, key: str | None) -> bool:
    return True


RECEIVED = ("收到", "知道了", "晓得了", "明白了", "好的", "好")


def received(p: Parse, key: str | None) -> bool:
    """「收到」「知道了」 as the answer to a pushed notice."""
    return key is None and p.normalized.strip(" 。!！，,了啦").rstrip("了") in RECEIVED or yes(p, key)


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
    State.OFFER_PERSON: ((yes, "message.leave"), (no, "help.menu"), (anything, PASS)),
    State.SERVICE_OFFER: ((yes, "service.request"), (no, "help.menu"), (anything, PASS)),
    State.ACTIVITY_OFFER: ((yes, "activity.sign_up"), (no, "help.menu"), (anything, PASS)),
    State.NOTICE_CONFIRM: (
        (yes, "notice.send"),
        (no, "notice.cancel"),
        (new_request, PASS),
        (anything, RETRY),
    ),
    State.NOTICE_ACK: ((received, "notice.ack"), (anything, PASS)),
    State.NOTICE_VOTE: ((anything, PASS),),  # a key picks an option; words are a new request
    State.SAFETY_CHECK: (
        (yes, "safety.confirmed"),
        (no, "safety.declined"),
        (safe, "safety.declined"),
        (blank, "safety.no_answer"),  # silence on the phone counts as yes
        (anything, "safety.retry"),
    ),
}
SAFETY_ANSWERS = ("safety.confirmed", "safety.declined", "safety.no_answer", "safety.unclear")
# Nothing to ask again (an offer made after answering a question about services is not repeated; a
# pushed notice or consultation is answered later by its number, or not at all).
NOT_RESUMED = (
    State.IDLE,
    State.RATE,
    State.BIND,
    State.SAFETY_CHECK,
    State.SERVICE_OFFER,
    State.ACTIVITY_OFFER,
    State.NOTICE_ACK,
    State.NOTICE_VOTE,
)
# Reports a new report may interrupt (a report of the same thing restates the pending one instead).
REPORTING = (State.REPORT_CONFIRM, State.REPORT_FIX, State.REPORT_ADDRESS, State.REPORT_CLARIFY)

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
    waiting = state.name not in NOT_RESUMED
    if not key and actor.bound:  # staff commands need a bound account
        cmd = parse_command(parse.text) or parse_command(parse.normalized)
        if cmd is not None:
            return Action("leader.command", {"op": cmd.op, "ticket_no": cmd.ticket_no, "note": cmd.note})
        if actor.is_staff:  # a notice's words (停水, 燃气) are the sender's, never an alarm
            notice = notice_action(parse.text, staff=True)
            if notice is not None:
                return notice
    if (
        parse.intent == "emergency"
        or (parse.urgent and parse.intent == "report")
        or parse.risk == "emergency"
    ):
        return Action("emergency.report", switch=waiting)
    if state.name == State.SAFETY_CHECK:
        return _safety_answer(state, parse, key)
    if parse.risk == "suspected":
        return Action("safety.ask", switch=waiting)
    if not actor.bound and not guest:
        return Action("bind.input")
    if not key and actor.bound and not actor.is_staff:
        notice = notice_action(parse.text, staff=False)
        if notice is not None:
            return Action(notice.name, notice.slots, switch=waiting)
    button = menu_action(parse.text)
    if button is not None:
        return Action(button, switch=waiting)
    signing = activity_words(parse.text)
    if signing is not None:  # 报名 / 取消报名 [活动号]
        return Action(signing[0], {"arg": signing[1]} if signing[1] else {}, switch=waiting)
    if state.name != State.IDLE:
        action = answer(state, parse, key)
        if action is not None:
            return action
    action = _new_request(state, parse, actor, key, threshold)
    return Action(action.name, action.slots, switch=waiting) if waiting else action


def notice_action(text: str, staff: bool) -> Action | None:
    """Notices and consultations in words: a draft to read back, a vote, figures, 「不要再打了」.
    A resident's 「通知：…」 goes to the draft handler, which refuses it (and audits the refusal)."""
    draft = parse_draft(text)
    if draft is not None and (staff or not draft.loose):
        deadline = draft.deadline.__dict__ if draft.deadline else None
        slots = {"kind": draft.kind, "text": draft.text, "scope": draft.scope, "options": list(draft.options)}
        return Action("notice.draft", {**slots, "deadline": deadline})
    no = parse_figures(text)
    if no is not None:
        return Action("notice.figures", {"notice_no": no})
    vote = parse_vote(text)
    if vote is not None:
        return Action("vote.cast", {"notice_no": vote[0], "choice": vote[1]})
    if stop_calls(text):
        return Action("notice.stop_calls")
    return None


def _new_request(
    state: DialogueState, parse: Parse, actor: Actor, key: str | None, threshold: float
) -> Action:
    if key:
        return _chosen(picked(main_menu(actor), key)) or Action("help.not_understood")
    if parse.intent in SERVICE_INTENTS and not parse.urgent and asks_for_service(parse.normalized):
        # 「有没有送饭的」: answered from the resource list; what it would otherwise be, when none fits
        fallback = _new_request(state, _plain(parse), actor, key, threshold).name
        return Action("service.ask", {"fallback": fallback})
    if parse.intent == "report" and _unsure(parse, threshold):
        return Action("report.clarify")
    if (
        parse.intent in ("out_of_scope", "help")
        and parse.complaint
        or _complaint_not_placed(parse, threshold)
    ):
        return Action("message.leave")  # a long complaint nobody taught us: a person reads it
    if parse.intent == "out_of_scope" and parse.confidence < threshold:
        return Action("help.not_understood")  # unsure what it is: ask again, then a person
    return Action(INTENT_ACTIONS.get(parse.intent, "help.not_understood"))


SERVICE_INTENTS = ("report", "out_of_scope")


def _plain(parse: Parse) -> Parse:
    """The same parse, as if it were not a question about services (for the fallback action)."""
    return replace(parse, normalized="")


def _safety_answer(state: DialogueState, parse: Parse, key: str | None) -> Action:
    """The answer to 「您现在有危险吗？」 applies to the message that raised the question. An unclear
    answer is asked once more; the second time (like silence) it counts as yes."""
    action = answer(state, parse, key) or Action("safety.retry")
    if action.name == "safety.retry" and state.slots.get("retries", 0) >= 1:
        action = Action("safety.unclear")
    if action.name in SAFETY_ANSWERS:
        return Action(
            action.name, {"check": state.slots.get("check")}, replay=str(state.slots.get("text", ""))
        )
    return action


def answer(state: DialogueState, parse: Parse, key: str | None) -> Action | None:
    """The message as an answer to the pending question; None lets it through as a new request."""
    chosen = _chosen(picked(offered(state), key))
    if chosen is not None:
        return chosen
    if state.name in REPORTING and _other_report(state, parse):
        return Action("report.start", switch=True)  # something else to report: hold this one
    for guard, name in TABLE.get(state.name, ((anything, PASS),)):
        if guard(parse, key):
            return Action(name) if name != PASS else None
    return None


def _other_report(state: DialogueState, parse: Parse) -> bool:
    """A report of something other than what is being collected (楼道灯 while 水管 is read back)."""
    if parse.intent != "report" or not parse.item or parse.entities.address is not None:
        return False
    pending = {state.slots.get("item"), *(c.arg for c in offered(state) if c.action == "report.choose")}
    return bool(pending - {None}) and parse.item not in pending


def offered(state: DialogueState) -> list[Choice]:
    """The choices of the question the state is waiting on (stored with it when it was asked)."""
    return [c for r in state.slots.get("prompt", ()) for c in Reply.from_json(r).choices]


def _chosen(choice: Choice | None) -> Action | None:
    if choice is None or not choice.action:
        return None
    return Action(choice.action, {"arg": choice.arg} if choice.arg is not None else {})


def _complaint_not_placed(parse: Parse, threshold: float) -> bool:
    """A complaint-shaped message that is a report only by a thin margin (its best single label is
    something else, its item unsure): no item fits it well enough to file."""
    top = parse.alternatives[0].intent if parse.alternatives else "report"
    return parse.complaint and parse.intent == "report" and top != "report" and parse.confidence < threshold


def _unsure(parse: Parse, threshold: float) -> bool:
    items = {a.item for a in parse.alternatives if a.intent == "report" and a.item}
    return parse.confidence < threshold and len(items) >= 2
