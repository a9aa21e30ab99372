"""Notices and consultations through the engine: read back, send on 1, acknowledge with a bare 1,
receipts, permissions and limits, votes changed then closed, 「不要再打了」, call retries within hours."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from bot.app import App
from bot.notice_words import stop_calls_spoken
from data.models import AuditLog, Household, NoticeReceipt, Resident
from data.services.notice_calls import call_finished, claim_calls

NOTICE = "通知：明天上午 9 点到 12 点停水"


def receipts(app: App, notice_id: int) -> dict[str, NoticeReceipt]:
    with app.db.session() as s:
        rows = s.execute(
            select(NoticeReceipt, Household)
            .join(Household, Household.id == NoticeReceipt.household_id)
            .where(NoticeReceipt.notice_id == notice_id)
        ).all()
        for r, _ in rows:
            s.expunge(r)
        return {h.room: r for r, h in rows}


def audits(app: App) -> list[tuple[str, str]]:
    with app.db.session() as s:
        return [(a.action, a.detail) for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_leader_notice_read_back_sent_acknowledged_and_counted(app: App, chat) -> None:  # type: ignore[no-untyped-def]
    leader, wang = chat("demo:leader1"), chat("demo:resident1")
    back = leader.say(NOTICE)
    assert "明天上午 9 点到 12 点停水" in back and "共 12 户" in back and "1 发送" in back
    sent = leader.say("1")
    assert "通知 1 已发出" in sent and "共 12 户" in sent
    assert wang.inbox() == ["张桂芳通知：明天上午 9 点到 12 点停水 收到请回 1。"]
    assert "收到了" in wang.say("1")  # the pushed question: a bare 1 acknowledges it
    assert "收到了" in chat("demo:resident2").say("收到")
    rows = receipts(app, 1)
    assert rows["502"].acknowledged_via == "demo" and rows["301"].acknowledged_at is not None
    # households without a bound channel are called now; 502 prefers voice but has acknowledged
    assert rows["502"].call_state == "cancelled" and rows["601"].call_state == "due"
    assert rows["101"].acknowledged_via == "sender" and rows["101"].call_state == ""  # 张桂芳's own home
    figures = leader.say("通知 1 情况")
    assert "共 12 户" in figures and "消息送到 2 户" in figures and "确认收到 3 户" in figures
    assert "每一户都已联系上" in figures  # the others still have a call coming
    assert ("notice", "notice 1 to unit:1, 12 households") in audits(app)


def test_refusals_scope_and_rate_limit(app: App, chat) -> None:  # type: ignore[no-untyped-def]
    assert "只有联户长、网格员和社区工作人员" in chat("demo:resident2").say(NOTICE)
    leader = chat("demo:leader1")
    assert "不在您的负责范围内" in leader.say("通知 第2网格：明天停电")
    assert "不在您的负责范围内" in chat("demo:grid1").say("通知 1 栋：明天停电")  # 1 栋 is grid 2's
    assert "共 24 户" in chat("demo:grid2").say("通知 1 栋：明天停电")
    assert "共 72 户" in chat("demo:staff1").say("通知 全社区：周六大扫除")
    assert "对不起" in chat("demo:duty").say(NOTICE)
    app.engine.settings = app.settings.with_overrides(
        notices=dataclasses.replace(app.settings.notices, per_sender_per_day=1)
    )
    leader.say(NOTICE)
    leader.say("1")
    assert "没有权限" in chat("demo:leader2").say("通知 1 情况")  # another unit's notice
    assert "已经够多了" in leader.say("通知：再来一条")
    refusals = [d for a, d in audits(app) if a == "refused"]
    assert any("role resident" in d for d in refusals) and any("scope grid" in d for d in refusals)
    assert any("rate limit" in d for d in refusals)


def test_vote_changed_then_closed_result_to_everyone(app: App, chat, clock) -> None:  # type: ignore[no-untyped-def]
    leader, wang, li = chat("demo:leader1"), chat("demo:resident1"), chat("demo:resident2")
    back = leader.say("加装电梯方案：1 同意 2 不同意 3 弃权，周五 18 点截止")
    assert "选项：1 同意 2 不同意 3 弃权" in back and "11 月 6 日 18:00" in back  # clock: Mon 2 Nov
    assert "议事 1 已发出" in leader.say("1")
    assert "1 同意 2 不同意 3 弃权" in wang.inbox()[-1]
    assert "不同意" in wang.say("2")
    assert "已改为：同意" in wang.say("投票 1 改成 1")
    assert "不同意" in li.say("2")
    tally = leader.say("议事 1 情况")
    assert "已投票 2 户" in tally and "同意 1 票，不同意 1 票，弃权 0 票" in tally and "还没有截止" in tally
    clock.advance(days=3, hours=10)  # Thursday 19:00 local: still open
    assert app.run_scheduler_once().consultations_closed == []
    clock.advance(days=1)
    assert app.run_scheduler_once().consultations_closed == [1]
    assert app.run_scheduler_once().consultations_closed == []
    for person in (wang, li, leader):
        assert "议事结果" in person.inbox()[-1] and "同意 1 票，不同意 1 票" in person.inbox()[-1]
    assert "已经截止" in li.say("投票 1 改成 1")
    with app.db.session() as s:
        due = s.scalars(select(NoticeReceipt).where(NoticeReceipt.call_state == "due")).all()
    assert due == []  # nobody is called about a closed consultation


def test_stop_calls_is_kept_and_respected(app: App, chat) -> None:  # type: ignore[no-untyped-def]
    assert "不再打电话" in chat("demo:resident1").say("不要再打了")
    with app.db.session() as s:
        wang = s.scalar(select(Resident).where(Resident.name == "王秀英"))
        assert wang is not None and wang.no_notice_calls
    leader = chat("demo:leader1")
    leader.say(NOTICE)
    leader.say("1")
    assert receipts(app, 1)["502"].call_state == ""  # prefers voice, but said 不要再打了
    assert receipts(app, 1)["601"].call_state == "due"
    with app.db.session() as s:
        jobs = claim_calls(app.context(s), 100)
    assert (
        "13800000502" not in {j.number for j in jobs} and len(jobs) == 9
    )  # 301 has a channel, 101 is the sender


@pytest.mark.parametrize(
    ("heard", "stop"),
    [
        ("不要再打了。", True),
        ("喂，不要再打了！", True),
        ("以后不要再打电话了", True),
        ("不要再打電話了", True),  # the recognizer's traditional characters
        ("别打了", True),
        ("不要再打门。", False),  # misheard: the call asks again rather than guess
        ("不要再打了，谢谢", False),
        ("打了", False),
        ("", False),
    ],
)
def test_stop_calls_as_the_recognizer_writes_it(heard: str, stop: bool) -> None:
    assert stop_calls_spoken(heard) is stop


def test_calls_retried_within_hours_and_not_outside(app: App, chat, clock) -> None:  # type: ignore[no-untyped-def]
    clock.advance(hours=12)  # 21:00 local
    leader = chat("demo:leader1")
    leader.say(NOTICE)
    leader.say("1")
    with app.db.session() as s:
        assert claim_calls(app.context(s), 100) == []  # nobody is called at night
    clock.advance(hours=11, minutes=30)  # 08:30 local
    with app.db.session() as s:
        jobs = claim_calls(app.context(s), 4)  # at most 4 at once
        assert len(jobs) == 4 and jobs[0].text == "明天上午 9 点到 12 点停水" and jobs[0].sender == "张桂芳"
        ctx = app.context(s)
        call_finished(ctx, jobs[0].receipt_id, "answered", "1")
        call_finished(ctx, jobs[1].receipt_id, "busy")
        call_finished(ctx, jobs[2].receipt_id, "no_answer")
        call_finished(ctx, jobs[3].receipt_id, "answered")
        busy = jobs[1].receipt_id
    with app.db.session() as s:
        assert busy not in {j.receipt_id for j in claim_calls(app.context(s), 100)}  # spacing not over
    for _ in range(2):
        clock.advance(minutes=31)
        with app.db.session() as s:
            again = [j for j in claim_calls(app.context(s), 100) if j.receipt_id == busy]
            assert again
            call_finished(app.context(s), busy, "busy")
    with app.db.session() as s:
        row = s.get(NoticeReceipt, busy)
        assert row is not None and row.call_state == "failed" and row.call_attempts == 3
    figures = leader.say("通知 1 情况")
    assert "确认收到 2 户" in figures and "接听 2 户" in figures
    assert "还没联系上的" in figures and "请上门告知" in figures
