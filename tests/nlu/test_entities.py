"""Each entity type."""

from __future__ import annotations

import pytest

from nlu import Parser


@pytest.mark.parametrize("text,building", [
    ("3栋2单元502", "3"), ("三栋二单元五零二", "3"), ("3号楼2单元502室", "3"), ("3-2-502", "3"),
    ("幺栋两单元502", "1"),  # 幺 is the spoken 1
])  # fmt: skip
def test_address(parser: Parser, text: str, building: str) -> None:
    addr = parser.parse(f"{text}水管漏水").entities.address
    assert addr is not None and (addr.building, addr.unit, addr.room) == (building, "2", "502")


def test_ticket_vs_phone(parser: Parser) -> None:
    e = parser.parse("查一下100023").entities
    assert e.ticket_no == "100023" and e.phone is None
    e = parser.parse("我电话是13812345678").entities
    assert e.phone == "13812345678" and e.ticket_no is None
    assert parser.parse("打0851-86543210找我").entities.phone == "085186543210"
    assert parser.parse("幺三八幺二三四五六七八").entities.phone == "13812345678"


@pytest.mark.parametrize("text,day,part,week,weekday", [
    ("明天下午来修", 1, "afternoon", None, None),
    ("下个礼拜", None, None, 1, None),
    ("上个星期三报的", None, None, -1, 3),
    ("昨晚就停水了", -1, "evening", None, None),
    ("三天前报的", -3, None, None, None),
])  # fmt: skip
def test_time(parser: Parser, text: str, day, part, week, weekday) -> None:  # noqa: ANN001
    t = parser.parse(text).entities.time
    assert t is not None and (t.day_offset, t.part_of_day, t.week_offset, t.weekday) == (
        day,
        part,
        week,
        weekday,
    )


@pytest.mark.parametrize("text,person", [
    ("我妈摔倒了", "mother"), ("老汉儿病了", "father"), ("老伴腿不好", "spouse"),
    ("孙子放学没人接", "grandchild"), ("我家水管漏了", "self"),
])  # fmt: skip
def test_person(parser: Parser, text: str, person: str) -> None:
    assert parser.parse(text).entities.person == person


@pytest.mark.parametrize(
    "text,rating", [("非常满意", 1), ("还可以", 2), ("不满意", 3), ("差评", 3), ("巴适得很", 1)]
)
def test_rating(parser: Parser, text: str, rating: int) -> None:
    assert parser.parse(text).entities.rating == rating


def test_on_behalf(parser: Parser) -> None:
    e = parser.parse("帮 3 栋 502 王婆婆报：厕所堵了").entities
    assert e.on_behalf == "王婆婆" and e.address is not None and e.address.building == "3"
    assert parser.parse("帮我报个事").entities.on_behalf is None
