"""A resident asks for a service: the answer comes from the resource list, with an offer to register
the need for a referral; other questions and reports go on as before."""

from __future__ import annotations

import re

import pytest

from nlu.asking import asks_for_service


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("有没有送饭的", True),
        ("哪里可以托管娃儿", True),
        ("社区有没有法律援助", True),
        ("哪儿可以请保姆", True),
        ("有没有人管一下楼道灯", False),
        ("我家水管漏水了", False),
        ("有没有办法让楼上别吵了", False),
        ("你们有没有规定几天之内必须办完这件事情，我等了好久了都没有人来", False),
    ],
)
def test_rule(text: str, asks: bool) -> None:
    assert asks_for_service(text) is asks


def test_questions_answered_from_the_list(chat) -> None:  # type: ignore[no-untyped-def]
    resident = chat("demo:resident1")
    meals = resident.say("有没有送饭的")
    assert "幸福里老年食堂" in meals and "11 点到 13 点" in meals and "提前一天打电话订餐" in meals
    assert "1 帮我登记" in meals
    assert "请选择" in resident.say("2")  # 2 不用了: back to the menu
    kids = resident.say("哪里可以托管娃儿")
    assert "四点半课堂" in kids and "16 点半到 18 点半" in kids and "还有 6 个" in kids
    assert "心灵驿站" not in kids
    assert "幸福里老年食堂" not in resident.say("附近有没有药店")  # nothing in the list: as before


def test_offer_opens_a_ticket_the_leader_can_refer(app, chat) -> None:  # type: ignore[no-untyped-def]
    resident, leader = chat("demo:resident1"), chat("demo:leader1")
    resident.say("有没有送饭的")
    readback = resident.say("1")
    assert "老年助餐送餐" in readback and "3 栋 2 单元 502" in readback
    no = re.search(r"单号 (\d{6})", resident.say("1")).group(1)
    assert any(f"新任务：单号 {no}" in m and "可以转介：1 幸福里老年食堂" in m for m in leader.inbox())
    assert "已转介给 幸福里老年食堂" in leader.say(f"转介 {no} 1")
    assert any("幸福里老年食堂 来办" in m for m in resident.inbox())
