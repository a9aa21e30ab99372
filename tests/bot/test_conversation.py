"""Whole conversations through the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from core.messages import Inbound
from data.models import Conversation, Ticket

TICKET_NO = re.compile(r"单号 (\d{6})")


def ticket_count(app) -> int:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        return int(s.scalar(select(func.count(Ticket.id))) or 0)


def report_water_leak(chat) -> str:  # type: ignore[no-untyped-def]
    r1 = chat("demo:resident1")
    first = r1.say("我家水管漏水了")
    assert "您要反映：水管漏水（设施与环境），地址 3 栋 2 单元 502，对吗？" in first
    assert "1 对 2 不对" in first
    created = r1.say("对")
    m = TICKET_NO.search(created)
    assert m, created
    return m.group(1)


def test_report_confirm_and_status(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = report_water_leak(chat)
    r1 = chat("demo:resident1")
    with app.db.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.public_no == no))
        assert (t.category, t.item, t.status, t.tier, t.source_channel) == (
            "facilities",
            "water_pipe",
            "submitted",
            1,
            "demo",
        )
        assert t.about_resident_id == t.reporter_resident_id
    status = r1.say("我报的事情咋样了")
    assert f"单号 {no}" in status and "水管漏水" in status and "等待接单" in status


@pytest.mark.parametrize("yes", ["1", "要得", "是的", "嗯", "好", "行"])
def test_yes_words_confirm(app, chat, yes: str) -> None:  # type: ignore[no-untyped-def]
    r1 = chat("demo:resident1")
    r1.say("我家水管漏水了")
    assert TICKET_NO.search(r1.say(yes))
    assert ticket_count(app) == 1


@pytest.mark.parametrize("no", ["2", "不对", "不是"])
def test_deny_offers_fixes_and_address_can_change(app, chat, no: str) -> None:  # type: ignore[no-untyped-def]
    r1 = chat("demo:resident1")
    r1.say("我家水管漏水了")
    fix = r1.say(no)
    assert "1 改地址" in fix and "2 改说明" in fix and "3 不登记了" in fix
    assert "地址" in r1.say("1")
    again = r1.say("3栋2单元301")
    assert "地址 3 栋 2 单元 301" in again
    assert TICKET_NO.search(r1.say("1"))


def test_drop_files_nothing(app, chat) -> None:  # type: ignore[no-untyped-def]
    r1 = chat("demo:resident1")
    r1.say("我家水管漏水了")
    r1.say("不对")
    assert "不登记" in r1.say("3")
    assert ticket_count(app) == 0


def test_unclear_answer_is_asked_again_once_then_goes_to_a_person(app, chat) -> None:  # type: ignore[no-untyped-def]
    r1 = chat("demo:resident1")
    r1.say("我家水管漏水了")
    again = r1.say("蓝色的天空")
    assert "没听明白" in again and "对吗" in again
    passed = r1.say("蓝色的天空")
    m = TICKET_NO.search(passed)
    assert "转给联户长张桂芳" in passed and m, passed  # never back to the menu with the words dropped
    task = [t for t in chat("demo:leader1").inbox() if m.group(1) in t]
    assert task and "居民留言" in task[0] and "我家水管漏水了" in task[0] and "蓝色的天空" in task[0]
    with app.db.session() as s:
        assert s.scalar(select(Ticket.kind).where(Ticket.public_no == m.group(1))) == "message"


def test_restart_mid_conversation_loses_nothing(app, settings, clock, parser, chat) -> None:  # type: ignore[no-untyped-def]
    chat("demo:resident1").say("我家水管漏水了")
    app.db.dispose()
    restarted = build_app(settings, clock=clock, parser=parser)
    answer = restarted.engine.handle(Inbound("demo", "resident1", "after-restart", "对"))
    assert TICKET_NO.search(answer.text)
    assert ticket_count(restarted) == 1
    restarted.db.dispose()


def test_duplicate_msg_id_is_processed_once(app, chat) -> None:  # type: ignore[no-untyped-def]
    r1 = chat("demo:resident1")
    r1.say("我家水管漏水了", msg_id="wx-1")
    first = r1.say("对", msg_id="wx-2")
    second = r1.say("对", msg_id="wx-2")
    assert first == second and TICKET_NO.search(first)
    assert ticket_count(app) == 1


def test_resident_cannot_read_anothers_ticket(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = report_water_leak(chat)
    r2 = chat("demo:resident2")
    assert "没有找到这个单号" in r2.say(f"单号 {no} 咋样了")
    assert no not in r2.say("我报的事情咋样了")
    assert "没有找到" in r2.say(f"催一下 {no}") or no not in r2.say(f"催一下 {no}")
    with app.db.session() as s:
        assert s.scalar(select(Ticket.status).where(Ticket.public_no == no)) == "submitted"


def test_cancel_own_ticket(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = report_water_leak(chat)
    r1 = chat("demo:resident1")
    ask = r1.say("那個單子不要了，已經修好了")
    assert f"单号 {no}" in ask and "1 撤销" in ask
    assert "已撤销" in r1.say("1")
    with app.db.session() as s:
        assert s.scalar(select(Ticket.status).where(Ticket.public_no == no)) == "cancelled"


def test_urge_notifies_assignee(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = report_water_leak(chat)
    r1 = chat("demo:resident1")
    assert "已帮您催办" in r1.say("等了好几天了，你们帮我催一哈嘛")
    assert "刚催过" in r1.say("帮我催一下嘛")
    assert any("居民催办" in m and no in m for m in chat("demo:leader1").inbox())


def test_human_handoff_creates_callback_for_leader(app, chat) -> None:  # type: ignore[no-untyped-def]
    r1 = chat("demo:resident1")
    assert "回电话" in r1.say("0")
    inbox = chat("demo:leader1").inbox()
    assert any("请给居民回电话" in m and "王秀英" in m for m in inbox)


def test_menu_and_help(app, chat) -> None:  # type: ignore[no-untyped-def]
    r1 = chat("demo:resident1")
    assert "1 反映问题 2 查询进度 3 找联户长 0 转人工" in r1.say("你好")
    assert "联户长是 张桂芳" in r1.say("3")


def test_unbound_user_gets_only_binding(app, chat) -> None:  # type: ignore[no-untyped-def]
    stranger = chat("web:stranger")
    reply = stranger.say("我家水管漏水了")
    assert "绑定" in reply
    assert ticket_count(app) == 0
    assert "申请" in stranger.say("3栋2单元301") or "绑定" in stranger.say("3栋2单元301")


@pytest.mark.parametrize("garbage", ["", "   ", "😀😀😀", "asdfghjkl", "的的的的的" * 200, "\x00\x01"])
def test_garbage_gets_a_plain_answer(app, chat, garbage: str) -> None:  # type: ignore[no-untyped-def]
    reply = chat("demo:resident1").say(garbage)
    assert reply and ("没" in reply or "帮" in reply or "选择" in reply)
    assert ticket_count(app) == 0


def test_state_is_stored_in_database(app, chat) -> None:  # type: ignore[no-untyped-def]
    chat("demo:resident1").say("我家水管漏水了")
    with app.db.session() as s:
        states = [c.state for c in s.scalars(select(Conversation))]
    assert "report_confirm" in states


@pytest.mark.parametrize("label", ["反映问题", "【反映问题】", "我要反映问题"])
def test_menu_labels_work_as_typed_words(app, chat, label: str) -> None:  # type: ignore[no-untyped-def]
    r1 = chat("demo:resident1")
    assert "请说一说遇到了什么问题" in r1.say(label)
    assert "对吗" in r1.say("我家水管漏水了")
    assert "没有正在办理" in r1.say("查询进度")  # a menu button leaves the pending question


def test_unregistered_caller_can_report_with_address_and_is_flagged(app, chat) -> None:  # type: ignore[no-untyped-def]
    caller = chat("phone:13999990000")
    ask = caller.say("我家水管漏水了", unverified=True)
    assert "地址" in ask
    confirm = caller.say("3栋2单元301", unverified=True)
    assert "地址 3 栋 2 单元 301" in confirm
    done = caller.say("1", unverified=True)
    no = TICKET_NO.search(done).group(1)
    assert "核实" in done
    with app.db.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.public_no == no))
        assert t.needs_verification and t.reporter_resident_id is None
    assert no in caller.say("我报的事情咋样了", unverified=True)
    assert any("核实" in m and no in m for m in chat("demo:leader1").inbox())


def test_late_answer_is_queued_in_the_same_turn(app, chat) -> None:  # type: ignore[no-untyped-def]
    import time as _time

    from data.models import OutboxMessage

    answer = app.engine.handle(
        Inbound("demo", "resident1", "late-1", "我报的事情咋样了"), late_after=_time.monotonic() - 1
    )
    assert answer.queued_late
    with app.db.session() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "late_reply")))
    assert len(rows) == 1 and "没有正在办理" in rows[0].params["text"]
