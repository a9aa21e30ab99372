"""The dialogue table, without a database: states × what was understood → action."""

from __future__ import annotations

import pytest

from bot.dialogue import SAFETY_ANSWERS, TABLE, Action, answer, decide
from core.conversation import Actor, DialogueState, State
from core.messages import Reply
from handlers.base import REGISTRY
from handlers.menus import (
    CANCEL_CONFIRM,
    MAIN,
    REPORT_CONFIRM,
    REPORT_CONFIRM_KEYPAD,
    REPORT_FIX,
    SAFETY,
    STAFF,
    TASK,
)
from nlu.types import Address, Entities, Parse

RESIDENT = Actor(1, "demo", "r1", "resident", "王秀英", resident_id=1, household_id=1, unit_id=1)
LEADER = Actor(2, "demo", "l1", "leader", "张桂芳", staff_id=1, unit_id=1)
UNBOUND = Actor(3, "wechat", "x", "unbound")


def said(
    intent: str, text: str = "", confidence: float = 0.9, item: str | None = None, **entities: object
) -> Parse:
    return Parse(
        text or intent,
        text or intent,
        intent,
        item=item,
        confidence=confidence,
        entities=Entities(**entities),  # type: ignore[arg-type]
    )


def key(digit: str) -> Parse:
    return said("confirm" if digit == "1" else "deny", digit, digit=digit)


def waiting(state: State, *choices: tuple) -> DialogueState:  # type: ignore[type-arg]
    prompt = [Reply("q", choices=tuple(c)).to_json() for c in choices]
    return DialogueState(state, {"prompt": prompt})


def test_every_action_in_the_table_and_menus_has_a_handler() -> None:
    actions = {name for rows in TABLE.values() for _, name in rows if name}
    actions |= {
        c.action
        for m in (
            MAIN,
            STAFF,
            REPORT_CONFIRM,
            REPORT_CONFIRM_KEYPAD,
            REPORT_FIX,
            CANCEL_CONFIRM,
            TASK,
            SAFETY,
        )
        for c in m
    }
    # the answers to the safety question act on the message that raised it (bot.engine replays it)
    assert actions - set(REGISTRY) - set(SAFETY_ANSWERS) == set()


def test_every_state_but_idle_has_rows() -> None:
    assert set(TABLE) == set(State) - {State.IDLE}


@pytest.mark.parametrize(
    "digit,action",
    [
        ("1", "report.ask"),
        ("2", "status.query"),
        ("3", "human.leader"),
        ("0", "human.handoff"),
        ("7", "help.not_understood"),
    ],
)
def test_idle_keys_pick_from_the_main_menu(digit: str, action: str) -> None:
    assert decide(DialogueState(), key(digit), RESIDENT, 0.55).name == action


def test_staff_get_their_own_menu() -> None:
    assert decide(DialogueState(), key("1"), LEADER, 0.55).name == "leader.tasks"


def test_keys_decode_with_the_choices_that_were_offered() -> None:
    state = waiting(State.REPORT_CONFIRM, REPORT_CONFIRM)
    assert answer(state, key("1"), "1") == Action("report.commit")
    assert answer(state, key("2"), "2") == Action("report.fix")
    phone = waiting(State.REPORT_CONFIRM, REPORT_CONFIRM_KEYPAD)
    assert answer(phone, key("2"), "2") == Action("report.redo")


def test_a_reworded_or_reordered_menu_still_decodes() -> None:
    swapped = tuple(
        type(c)(d, key=c.key, action=c.action) for c, d in zip(REPORT_CONFIRM, ("2", "1"), strict=True)
    )
    state = waiting(State.REPORT_CONFIRM, swapped)
    assert answer(state, key("2"), "2") == Action("report.commit")


def test_words_answer_the_pending_question() -> None:
    state = waiting(State.REPORT_CONFIRM, REPORT_CONFIRM)
    assert answer(state, said("confirm", "要得"), None) == Action("report.commit")
    assert answer(state, said("deny", "不对"), None) == Action("report.fix")
    assert answer(state, said("report", "楼道灯坏了", item="lighting"), None) == Action("report.start")
    assert answer(state, said("out_of_scope", "今天天气好"), None) == Action("dialogue.retry")


def test_a_clear_new_request_passes_through_a_pending_question() -> None:
    state = waiting(State.CANCEL_CONFIRM, CANCEL_CONFIRM)
    assert answer(state, said("query_status", "我的事办得咋样了"), None) is None
    assert answer(state, said("query_status", "嗯", confidence=0.3), None) == Action("dialogue.retry")


def test_an_address_answers_the_fix_menu() -> None:
    state = waiting(State.REPORT_FIX, REPORT_FIX)
    addr = Address("3", "2", "502", "3栋2单元502")
    assert answer(state, said("report", "3栋2单元502", address=addr), None) == Action("report.address_given")
    assert answer(state, key("3"), "3") == Action("report.drop")


def test_a_description_is_not_a_key() -> None:
    state = DialogueState(State.REPORT_DESCRIPTION, {})
    assert answer(state, key("5"), "5") == Action("dialogue.retry")
    assert answer(state, key("0"), "0") == Action("report.drop")
    assert answer(state, said("report", "厕所堵了"), None) == Action("report.description_given")


def test_rating_by_key_or_by_word() -> None:
    state = DialogueState(State.RATE, {"ticket_no": "100023"})
    assert answer(state, key("3"), "3") == Action("rate.give")
    assert answer(state, said("rate", "满意", rating=1), None) == Action("rate.give")
    assert answer(state, said("report", "楼道灯坏了"), None) is None  # a new request; rate later


def test_emergency_preempts_any_state() -> None:
    for state in State:
        assert (
            decide(DialogueState(state, {}), said("emergency", "救命"), RESIDENT, 0.55).name
            == "emergency.report"
        )


def test_unbound_accounts_may_only_bind() -> None:
    assert decide(DialogueState(), said("report", "水管漏了"), UNBOUND, 0.55).name == "bind.input"
    assert (
        decide(DialogueState(), said("report", "水管漏了"), UNBOUND, 0.55, guest=True).name == "report.start"
    )


def test_leader_commands_and_task_menu() -> None:
    assert decide(DialogueState(), said("out_of_scope", "接单 100023"), LEADER, 0.55) == Action(
        "leader.command", {"op": "accept", "ticket_no": "100023", "note": ""}
    )
    state = waiting(State.LEADER_TASK, TASK)
    assert answer(state, key("3"), "3") == Action("leader.step", {"arg": "resolve"})
    assert answer(state, key("0"), "0") == Action("leader.tasks")
