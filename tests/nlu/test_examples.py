"""Table-driven: the issue's examples, short answers, digits, and the red-flag lists."""

from __future__ import annotations

import dataclasses

import pytest

from nlu import Parser
from tests.nlu.conftest import load_cases

ISSUE = load_cases("issue_examples.yaml")
YES_NO = load_cases("yes_no.yaml")
FLAGS = load_cases("redflags.yaml")


def _subset(expected: dict, actual: object) -> None:
    for key, want in expected.items():
        got = getattr(actual, key)
        if isinstance(want, dict):
            _subset(want, got)
        else:
            assert got == want, f"{key}: {got!r} != {want!r}"


@pytest.mark.parametrize("case", ISSUE, ids=[c["text"] for c in ISSUE])
def test_issue_examples(parser: Parser, case: dict) -> None:
    parse = parser.parse(case["text"])
    for key in ("intent", "category", "item", "urgent"):
        if key in case:
            assert getattr(parse, key) == case[key], (key, dataclasses.asdict(parse))
    _subset(case.get("entities", {}), parse.entities)


@pytest.mark.parametrize("intent,text", [(i, t) for i, ts in YES_NO.items() for t in ts])
def test_short_answers(parser: Parser, intent: str, text: str) -> None:
    parse = parser.parse(text)
    assert parse.intent == intent
    assert parse.confidence >= 0.9


@pytest.mark.parametrize("text,digit", [("1", "1"), ("２", "2"), ("一", "1"), ("幺", "1"), ("3。", "3"),
                                        ("九", "9"), ("两", "2"), ("选2", "2"), ("洞", "0")])  # fmt: skip
def test_keypad_digits(parser: Parser, text: str, digit: str) -> None:
    parse = parser.parse(text)
    assert (parse.intent, parse.entities.digit, parse.confidence) == ("out_of_scope", digit, 1.0)


@pytest.mark.parametrize("text", FLAGS["urgent"])
def test_red_flags_are_urgent(parser: Parser, text: str) -> None:
    parse = parser.parse(text)
    assert parse.urgent and parse.intent == "emergency", dataclasses.asdict(parse)


@pytest.mark.parametrize("text", FLAGS["ordinary"])
def test_ordinary_is_not_urgent(parser: Parser, text: str) -> None:
    parse = parser.parse(text)
    assert not parse.urgent, dataclasses.asdict(parse)


def test_emergency_carries_item(parser: Parser) -> None:
    assert parser.parse("电梯关人了，有人困在里面").item == "elevator"
    assert parser.parse("我奶奶摔倒了起不来").category == "elder_care"


def test_alternatives_and_confidence(parser: Parser) -> None:
    parse = parser.parse("厨房水管漏水了")
    assert 1 <= len(parse.alternatives) <= 3
    assert parse.alternatives[0].item == parse.item
    assert 0.0 <= parse.confidence <= 1.0


def test_leader_commands_do_not_crash(parser: Parser) -> None:
    for text in ("我的任务", "接单 100023", "办结 100023 已经修好了", "上报 100023 需要社区协调"):
        assert parser.parse(text).text == text


def test_category_null_outside_reports(parser: Parser) -> None:
    for text in ("你好", "谢谢", "再见", "转人工"):
        parse = parser.parse(text)
        assert parse.category is None and parse.item is None


@pytest.mark.parametrize("text", ["有点事情想反映一下", "我有个事情想反映", "想报个事情"])
def test_wish_to_report_without_content(parser: Parser, text: str) -> None:
    parse = parser.parse(text)
    assert (parse.intent, parse.category, parse.item, parse.urgent) == ("report", None, None, False)


@pytest.mark.parametrize("text,intent", [("没得没得", "deny"), ("不用不用", "deny"), ("喂喂", "greet"),
                                         ("对对", "confirm"), ("哈喽哈喽", "greet")])  # fmt: skip
def test_repeated_short_answers(parser: Parser, text: str, intent: str) -> None:
    assert parser.parse(text).intent == intent


@pytest.mark.parametrize("text", ["哼", "嘿嘿嘿嘿", "哎呀呀", "呵呵"])
def test_bare_interjections_are_chat(parser: Parser, text: str) -> None:
    assert parser.parse(text).intent == "out_of_scope"
