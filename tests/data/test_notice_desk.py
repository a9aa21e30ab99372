"""The workbench's notice receipts on a real database: per household sent / delivered / acknowledged /
called / answered / not reached, only within the viewer's part of the community, agreeing with the
chat's 「通知 N 情况」."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.app import App
from core.errors import NotFoundError
from data.models import AuditLog, Household, NoticeReceipt, OutboxMessage
from data.services.consultations import count
from data.services.notice_calls import call_finished, claim_calls
from data.services.notice_desk import notice_receipts, recent_notices
from data.services.notices import get_notice
from tests.data.test_workbench import actor

NOTICE = "通知：明天上午 9 点到 12 点停水"


def room_receipt(app: App, notice_id: int, room: str) -> int:
    with app.db.session() as s:
        return s.scalar(
            select(NoticeReceipt.id)
            .join(Household, Household.id == NoticeReceipt.household_id)
            .where(NoticeReceipt.notice_id == notice_id, Household.building == "3", Household.room == room)
        )  # type: ignore[return-value]


def unit1_notice_with_outcomes(app: App, chat) -> int:  # type: ignore[no-untyped-def]
    """Leader 1's notice to unit 1: 301's message delivered, 502 answered and pressed 1, 601 answered,
    602 never picked up (attempts used up), the other calls still dialing."""
    leader = chat("demo:leader1")
    leader.say(NOTICE)
    leader.say("1")
    r502, r601, r602 = (room_receipt(app, 1, room) for room in ("502", "601", "602"))
    with app.db.session() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.kind == "notice").values(status="sent"))
        ctx = app.context(s)
        assert len(claim_calls(ctx, 100)) == 10
        call_finished(ctx, r502, "answered", "1")
        call_finished(ctx, r601, "answered")
        s.execute(
            update(NoticeReceipt)
            .where(NoticeReceipt.id == r602)
            .values(call_state="failed", call_result="no_answer", call_attempts=3)
        )
    return 1


def test_receipts_per_household_agree_with_the_chat_figures(app: App, chat) -> None:  # type: ignore[no-untyped-def]
    notice_id = unit1_notice_with_outcomes(app, chat)
    leader1 = actor(app, "demo:leader1")
    with app.db.session() as s:
        ctx = app.context(s)
        seen = notice_receipts(ctx, leader1, notice_id)
        chat_figures = count(ctx, get_notice(ctx, notice_id))
    rows = {r.address: r for r in seen.rows}
    assert len(rows) == 12 and all(r.unit == "3栋2单元联户单元" for r in rows.values())
    a301, a502, a601, a602 = (rows[f"3 栋 2 单元 {n}"] for n in ("301", "502", "601", "602"))
    assert a301.channels >= 1 and a301.delivered and a301.reached and a301.called_at is None  # a call later
    assert a502.acknowledged_via == "phone" and a502.answered_at is not None and a502.call_attempts == 1
    assert a601.answered_at is not None and a601.acknowledged_at is None and a601.reached
    assert a602.unreached and a602.call_result == "no_answer"
    assert [r.address for r in seen.unreached] == ["3 栋 2 单元 602"]  # the others' calls are still dialing
    for what in ("delivered", "acknowledged", "called", "answered"):
        assert seen.count(what) == getattr(chat_figures, what), what
    assert seen.count("unreached") == len(chat_figures.unreached) == 1
    assert seen.notice.sender == "张桂芳" and seen.notice.households == 12


def test_each_viewer_sees_only_their_part(app: App, chat) -> None:  # type: ignore[no-untyped-def]
    unit1_notice_with_outcomes(app, chat)
    staff = chat("demo:staff1")
    staff.say("通知 全社区：周六上午大扫除")
    assert "共 72 户" in staff.say("1")
    who = {ref: actor(app, f"demo:{ref}") for ref in ("leader1", "leader2", "grid1", "grid2", "staff1")}
    with app.db.session() as s:
        ctx = app.context(s)
        seen = {ref: {n.id: n.households for n in recent_notices(ctx, a)} for ref, a in who.items()}
        leader2_view = notice_receipts(ctx, who["leader2"], 2)
    assert seen["leader1"] == {1: 12, 2: 12}  # the community notice: only her unit's households
    assert seen["leader2"] == {2: 12} and seen["grid2"] == {2: 36}
    assert seen["grid1"] == {1: 12, 2: 36} and seen["staff1"] == {1: 12, 2: 72}
    assert "3 栋 2 单元 502" not in {r.address for r in leader2_view.rows} and len(leader2_view.rows) == 12
    with app.db.session() as s, pytest.raises(NotFoundError):
        notice_receipts(app.context(s), who["leader2"], 1)  # unit 1's notice: not hers
    with app.db.session() as s:
        refused = s.scalars(select(AuditLog.detail).where(AuditLog.action == "refused")).all()
    assert "workbench notice 1" in refused


def test_a_consultations_votes_per_household_and_tally(app: App, chat) -> None:  # type: ignore[no-untyped-def]
    leader, wang, li = chat("demo:leader1"), chat("demo:resident1"), chat("demo:resident2")
    leader.say("加装电梯方案：1 同意 2 不同意 3 弃权，周五 18 点截止")
    leader.say("1")
    wang.say("2")
    wang.say("投票 1 改成 1")
    li.say("2")
    leader1, leader2 = actor(app, "demo:leader1"), actor(app, "demo:leader2")
    with app.db.session() as s:
        seen = notice_receipts(app.context(s), leader1, 1)
        assert recent_notices(app.context(s), leader2) == []  # unit 1's question only
    assert seen.tally == [("同意", 1), ("不同意", 1), ("弃权", 0)] and seen.options == [
        "同意",
        "不同意",
        "弃权",
    ]
    by_room = {r.address: seen.votes.get(r.household_id) for r in seen.rows}
    assert by_room["3 栋 2 单元 502"] == ["同意"] and by_room["3 栋 2 单元 301"] == ["不同意"]
    assert by_room["3 栋 2 单元 602"] is None
