"""parse never raises, whatever the string."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlu import Parser
from nlu.types import INTENTS

ODD = ["", " ", "\n", "🙂🙂🙂", "\x00\x01", "？？？", "a" * 5000, "水管" * 2500, "嗯" * 100, "１２３４５６",
       "𠀀𠀁", "\ud800", "<script>alert(1)</script>", "接单 100023", "帮帮帮报", "99999999999999999999"]  # fmt: skip


@pytest.mark.parametrize("text", ODD)
def test_odd_inputs(parser: Parser, text: str) -> None:
    parse = parser.parse(text)
    assert parse.intent in INTENTS and parse.text == text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_fuzz_never_raises(parser: Parser, text: str) -> None:
    parse = parser.parse(text)
    assert parse.intent in INTENTS
    assert 0.0 <= parse.confidence <= 1.0


@pytest.mark.parametrize("text", ["zzzz", "x", "K", "b", "龘龘", "ξ"])
def test_nothing_familiar_is_not_a_yes(parser: Parser, text: str) -> None:
    """A message of which only the length is known (or a lone letter) is out of scope with no confidence,
    never a confirm."""
    parse = parser.parse(text)
    assert (parse.intent, parse.confidence) == ("out_of_scope", 0.0)
