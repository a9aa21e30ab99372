"""Repair of recognized speech (nlu.homophone.SpokenRepairer via Parser.parse_spoken): bolder than the
typed rule, and typed text is left as it was."""

from __future__ import annotations

import pytest

from nlu.homophone import canon, near, read_digits


@pytest.mark.parametrize(
    ("heard", "fixed"),
    [
        ("没去为道好大", "煤气味道好大"),  # 没去味 -> 煤气味: no shared character, one near syllable (qu/qi)
        ("宣净盖坏了", "窨井盖坏了"),  # xuan/xun near, 净/井 the same sound
        ("4.5克堂还收不收人", "四点半课堂"),  # digits read as said
        ("三洞二单元五零二", "3栋2单元502"),  # 洞 is not a zero here
        ("3动2单元502的水管爆了", "3栋2单元502的水管爆了"),
        ("3-2单元5-0-2，我上回报的事情", "3栋2单元502"),  # how Whisper writes 三栋二单元五零二
        ("12-1单元304，卫生间返水", "12栋1单元304"),
        ("旗洞三单元101，马桶堵了", "7栋3单元101"),  # 七 heard as 旗
    ],
)
def test_spoken_slips_are_repaired(parser, heard: str, fixed: str) -> None:  # type: ignore[no-untyped-def]
    assert fixed in parser.parse_spoken(heard).normalized


def test_a_spoken_address_is_read(parser) -> None:  # type: ignore[no-untyped-def]
    address = parser.parse_spoken("3-2单元5-0-2，我上回报的那个事情办得怎样了。").entities.address
    assert (address.building, address.unit, address.room) == ("3", "2", "502")
    assert parser.parse("3-2单元5-0-2，我上回报的那个事情办得怎样了。").entities.address.building is None


def test_a_repaired_slip_changes_the_understanding(parser) -> None:  # type: ignore[no-untyped-def]
    assert parser.parse("没去为道好大").risk is None
    assert parser.parse_spoken("没去为道好大").risk == "emergency"
    spoken = parser.parse_spoken("4.5克堂还有没有名额")
    assert (spoken.intent, spoken.item) == ("report", "child_after_school")


@pytest.mark.parametrize(
    "text",
    [
        "我就住在3栋2单元502",  # 就住 is not 救助
        "他们午夜还在吵",  # 午夜 is not 物业
        "我住不住得下",
        "他动不动就骂人",
        "把东西运过去",
        "今天天气很好",
        "我想问一下高龄补贴怎么领",
        "谢谢你们",
        "明天下午3点半来",
    ],
)
def test_ordinary_sentences_are_left_alone(parser, text: str) -> None:  # type: ignore[no-untyped-def]
    norm = parser.bundle.normalizer
    assert norm(text, spoken=True) == norm(text)


def test_typed_text_does_not_take_the_spoken_rules(parser) -> None:  # type: ignore[no-untyped-def]
    assert parser.parse("宣净盖坏了").normalized == parser.bundle.normalizer("宣净盖坏了")
    assert "窨井盖" not in parser.parse("宣净盖坏了").normalized


def test_digit_readings() -> None:
    assert [r for _, r in read_digits("4.5克")] == ["四", "点半", "克"]
    assert [r for _, r in read_digits("502室")] == ["五", "零", "二", "室"]
    assert [r for _, r in read_digits("1.25")] == ["一", "点", "二", "五"]
    assert [r for _, r in read_digits("好.")] == ["好", "."]


def test_near_syllables() -> None:
    assert canon("qi") in near(canon("qu")) and canon("xun") in near(canon("xuan"))
    assert "huo" in near("guo") and "zon" not in near("zon") and "huo" not in near("zon")
