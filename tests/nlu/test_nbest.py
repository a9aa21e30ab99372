"""The n-best chooser (nlu/nbest.py): pure, on constructed readings and parses."""

from __future__ import annotations

import math

from nlu.nbest import choose, heard_confidence, parse_quality
from nlu.types import Parse


def fake(parses: dict[str, Parse]):  # type: ignore[no-untyped-def]
    def parse(text: str) -> Parse:
        return parses.get(text) or Parse(text, text, "out_of_scope", confidence=0.0)

    return parse


def report(text: str, item: str, confidence: float, **kw) -> Parse:  # type: ignore[no-untyped-def]
    return Parse(text, text, "report", "facilities", item, confidence=confidence, **kw)


def test_without_alternatives_the_first_reading_stands() -> None:
    parse = fake({"楼道灯坏了": report("楼道灯坏了", "lighting", 0.9)})
    chosen = choose(parse, "楼道灯坏了")
    assert chosen.text == "楼道灯坏了" and chosen.parse.item == "lighting" and chosen.logprob == 0.0


def test_picks_the_reading_that_parses() -> None:
    parse = fake({"煤气味道好大": report("煤气味道好大", "gas", 0.8)})
    chosen = choose(parse, "没去为道好大", [("煤气味道好大", -0.05)])
    assert chosen.text == "煤气味道好大" and chosen.parse.item == "gas"


def test_prefers_the_acoustic_first_when_both_parse() -> None:
    parse = fake(
        {
            "楼道灯坏了": report("楼道灯坏了", "lighting", 0.7),
            "楼道等坏了": report("楼道等坏了", "lighting", 0.72),
        }
    )
    assert choose(parse, "楼道灯坏了", [("楼道等坏了", -0.05)]).text == "楼道灯坏了"


def test_a_far_less_likely_reading_does_not_win_on_parse_alone() -> None:
    parse = fake({"电梯坏了": report("电梯坏了", "elevator", 0.9)})
    assert choose(parse, "点题怀乐", [("电梯坏了", -1.5)]).text == "点题怀乐"


def test_a_likely_alternative_with_a_risk_cue_makes_the_choice_suspected() -> None:
    danger = Parse(
        "门口有个男的一直站着不走",
        "",
        "report",
        confidence=0.4,
        risk="suspected",
        risk_cues=("intruder:站着不走",),
    )
    plain = report("门口有个男的一直占着不走", "parking", 0.9)
    parse = fake({danger.text: danger, plain.text: plain})
    chosen = choose(parse, plain.text, [(danger.text, -0.02)])
    assert chosen.text == plain.text
    assert chosen.parse.risk == "suspected"
    assert "nbest:intruder:站着不走" in chosen.parse.risk_cues


def test_an_emergency_reading_is_never_dropped() -> None:
    fire = Parse(
        "着火了", "", "emergency", urgent=True, confidence=0.95, risk="emergency", risk_cues=("fire:着火",)
    )
    other = report("找果了", "other", 0.99)
    parse = fake({"着火了": fire, "找果了": other})
    # the emergency reading first: kept (an emergency parses in full) ...
    assert choose(parse, "着火了", [("找果了", -0.01)]).parse.risk == "emergency"
    # ... second and less likely: the chosen reading asks the safety question
    kept = choose(parse, "找果了", [("着火了", -0.3)]).parse
    assert kept.intent == "report" and kept.risk == "suspected" and kept.risk_cues[0] == "nbest:fire:着火"


def test_an_unlikely_risk_reading_is_not_heard() -> None:
    fire = Parse("着火了", "", "emergency", confidence=0.95, risk="emergency", risk_cues=("fire:着火",))
    parse = fake({"着火了": fire, "找过了": report("找过了", "other", 0.9)})
    assert choose(parse, "找过了", [("着火了", -2.0)]).parse.risk is None


def test_duplicates_and_empty_readings_are_skipped() -> None:
    calls: list[str] = []

    def parse(text: str) -> Parse:
        calls.append(text)
        return report(text, "lighting", 0.9)

    choose(parse, "灯坏了", [("灯坏了", -0.1), ("  ", -0.2)])
    assert calls == ["灯坏了"]


def test_quality_orders_parses() -> None:
    assert parse_quality(Parse("x", "x", "out_of_scope", confidence=1.0)) == 0.0
    assert parse_quality(report("a", "lighting", 0.5)) > parse_quality(
        Parse("a", "a", "report", confidence=0.5)
    )


def test_a_likely_reading_that_means_something_else_disputes_the_choice() -> None:
    parse = fake(
        {
            "厨房水管漏了": report("厨房水管漏了", "water_pipe", 0.8),
            "厨房水关了": report("厨房水关了", "water_supply", 0.6),
        }
    )
    chosen = choose(parse, "厨房水管漏了", [("厨房水关了", -0.4)])
    assert chosen.text == "厨房水管漏了" and chosen.disputed
    # the same meaning in other words is no doubt, nor is a far less likely reading
    same = fake(
        {"楼道灯坏了": report("楼道灯坏了", "lighting", 0.9), "楼道等坏了": report("x", "lighting", 0.7)}
    )
    assert not choose(same, "楼道灯坏了", [("楼道等坏了", -0.1)]).disputed
    assert not choose(parse, "厨房水管漏了", [("厨房水关了", -1.5)]).disputed
    assert not choose(parse, "厨房水管漏了").disputed


def test_a_reading_out_of_scope_next_to_a_report_is_doubt() -> None:
    parse = fake({"楼道灯坏了": report("楼道灯坏了", "lighting", 0.9)})
    assert choose(parse, "楼道灯坏了", [("楼到底怪了", -0.6)]).disputed


def test_heard_confidence_reads_back_a_disputed_or_unlikely_reading() -> None:
    parse = fake(
        {
            "厨房水管漏了": report("厨房水管漏了", "water_pipe", 0.8),
            "厨房水关了": report("厨房水关了", "water_supply", 0.6),
        }
    )
    disputed = choose(parse, "厨房水管漏了", [("厨房水关了", -0.4)])
    assert heard_confidence(0.9, disputed, 0.6) == 0.3  # below the read-back threshold
    plain = choose(parse, "厨房水管漏了")
    assert heard_confidence(0.9, plain, 0.6) == 0.9
    assert heard_confidence(None, disputed, 0.6) is None
    # another reading taken that means the same: the confidence falls by how much less likely it was
    lights = fake(
        {"楼道灯坏了": report("楼道灯坏了", "lighting", 0.95), "楼到灯坏了": report("y", "lighting", 0.5)}
    )
    took = choose(lights, "楼到灯坏了", [("楼道灯坏了", -0.05)])
    assert took.text == "楼道灯坏了" and not took.disputed
    assert heard_confidence(0.9, took, 0.6) == round(0.9 * math.exp(-0.05), 3)
    # taken over a first reading that understood nothing: doubtful, read back
    gas = fake({"煤气味道好大": report("煤气味道好大", "gas", 0.8)})
    took = choose(gas, "没去为道好大", [("煤气味道好大", -0.1)])
    assert took.text == "煤气味道好大" and took.disputed
    assert heard_confidence(0.9, took, 0.6) == 0.3
