"""The closed loop across identities: report → task → accept → resolve → rate; deadlines; emergencies."""

from __future__ import annotations

import re

from sqlalchemy import select

from data.models import AuditLog, Rating, Ticket, TicketEvent

NO = re.compile(r"单号 (\d{6})")


def file_ticket(chat, text: str = "我家水管漏水了", who: str = "demo:resident1") -> str:  # type: ignore[no-untyped-def]
    c = chat(who)
    c.say(text)
    return NO.search(c.say("1")).group(1)


def ticket(app, no: str) -> Ticket:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        return s.scalar(select(Ticket).where(Ticket.public_no == no))


def test_whole_loop(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    leader, resident = chat("demo:leader1"), chat("demo:resident1")
    assert any(f"新任务：单号 {no}" in m for m in leader.inbox())
    tasks = leader.say("我的任务")
    assert no in tasks and "1 " in tasks
    assert "已接单" in leader.say(f"接单 {no}")
    assert "正在处理" in leader.say(f"处理中 {no}")
    assert "已办结" in leader.say(f"办结 {no} 已经修好了")
    inbox = resident.inbox()
    assert any("联户长已经接单" in m for m in inbox)
    assert any("已经办好了" in m and "已经修好了" in m for m in inbox)
    assert any("满意请按 1" in m for m in inbox)
    assert "谢谢" in resident.say("1")
    t = ticket(app, no)
    assert t.status == "closed" and t.rating == 1
    with app.db.session() as s:
        kinds = [
            e.kind
            for e in s.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)
            )
        ]
    assert kinds == ["created", "accepted", "in_progress", "resolved", "closed"]


def test_leader_numbered_menu(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    leader = chat("demo:leader1")
    leader.say("1")  # 我的任务
    menu = leader.say("1")
    assert "1 接单" in menu and "3 办结" in menu
    assert "已接单" in leader.say("1")
    assert ticket(app, no).status == "accepted"


def test_invalid_transition_is_a_clear_reply(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    leader = chat("demo:leader1")
    leader.say(f"办结 {no} 好了")
    reply = leader.say(f"接单 {no}")
    assert "不能这样操作" in reply
    assert ticket(app, no).status == "resolved"


def test_escalation_by_leader_and_grid(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    leader, grid = chat("demo:leader1"), chat("demo:grid1")
    assert "原因" in leader.say(f"上报 {no}")
    assert "已上报网格员" in leader.say("需要物业出面")
    t = ticket(app, no)
    assert t.tier == 2
    assert any(no in m for m in grid.inbox())
    assert any("转交网格员" in m for m in chat("demo:resident1").inbox())
    assert "已上报社区" in grid.say(f"上报 {no} 需要社区协调")
    assert ticket(app, no).tier == 3


def test_overdue_ticket_escalates_and_both_sides_hear(app, chat, clock) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)  # water_pipe: accept within 12 h
    clock.advance(hours=11)
    assert app.run_scheduler_once().escalated == []
    clock.advance(hours=2)
    assert app.run_scheduler_once().escalated == [no]
    assert app.run_scheduler_once().escalated == []  # idempotent: a new deadline now applies
    t = ticket(app, no)
    assert t.tier == 2
    assert any("超时" in m for m in chat("demo:resident1").inbox())
    assert any("超时" in m and no in m for m in chat("demo:leader1").inbox())
    assert any(no in m for m in chat("demo:grid1").inbox())


def test_emergency_realerts_until_acknowledged(app, chat, clock) -> None:  # type: ignore[no-untyped-def]
    r2 = chat("demo:resident2")
    reply = r2.say("我老汉儿倒在地上喊不答应了")
    assert "120" in reply and "紧急" in reply
    no = NO.search(reply).group(1)
    for who in ("demo:leader1", "demo:grid1", "demo:duty"):
        assert sum("紧急求助" in m for m in chat(who).inbox()) == 1
    clock.advance(minutes=4)
    assert app.run_scheduler_once().realerted == []
    clock.advance(minutes=1)
    assert app.run_scheduler_once().realerted == [no]
    assert sum("紧急求助" in m for m in chat("demo:duty").inbox()) == 2
    clock.advance(minutes=3)
    assert "已接单" in chat("demo:grid1").say(f"接单 {no}")
    clock.advance(minutes=10)
    assert app.run_scheduler_once().realerted == []
    t = ticket(app, no)
    assert (t.acknowledged_at - t.created_at).total_seconds() == 8 * 60


def test_dissatisfied_rating_reopens_one_tier_up(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    chat("demo:leader1").say(f"办结 {no} 修好了")
    resident = chat("demo:resident1")
    resident.inbox()
    assert "重新办理" in resident.say("3")
    t = ticket(app, no)
    assert (t.status, t.tier, t.rating) == ("reopened", 2, 3)
    assert any(no in m for m in chat("demo:grid1").inbox())


def test_unrated_ticket_closes_after_72_hours(app, chat, clock) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    chat("demo:leader1").say(f"办结 {no} 修好了")
    clock.advance(hours=71)
    assert app.run_scheduler_once().closed_unrated == []
    clock.advance(hours=2)
    assert app.run_scheduler_once().closed_unrated == [no]
    t = ticket(app, no)
    assert t.status == "closed" and t.rating is None
    with app.db.session() as s:
        assert s.scalar(select(Rating.id).where(Rating.ticket_id == t.id)) is None


def test_permissions_are_refused_and_logged(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)  # unit 1
    other_leader = chat("demo:leader2")
    assert "没有找到" in other_leader.say(f"接单 {no}")
    assert "没有找到" in chat("demo:grid2").say(f"办结 {no} 好了")
    assert "没有权限" in chat("demo:resident2").say("我的任务")
    assert "没有权限" in chat("demo:resident2").say(f"办结 {no} 好了")
    assert ticket(app, no).status == "submitted"
    with app.db.session() as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "refused")).first() is not None


def test_proxy_report_by_leader(app, chat) -> None:  # type: ignore[no-untyped-def]
    leader = chat("demo:leader1")
    ask = leader.say("帮 3 栋 2 单元 502 王婆婆报：厕所堵了")
    assert "王婆婆" in ask and "3 栋 2 单元 502" in ask
    no = NO.search(leader.say("对")).group(1)
    t = ticket(app, no)
    assert t.item == "drain_blocked" and t.reporter_staff_id is not None
    assert no in chat("demo:resident1").say("我报的事情咋样了")
    assert no in leader.say(f"单号 {no} 咋样了")


def test_unassigned_unit_falls_back_to_grid_worker(app, chat) -> None:  # type: ignore[no-untyped-def]
    leader = chat("demo:staff1")
    leader.say("帮 1 栋 2 单元 301 报：楼道灯坏了")
    no = NO.search(leader.say("对")).group(1)
    t = ticket(app, no)
    assert t.tier == 2
    assert any(no in m for m in chat("demo:grid2").inbox())


def test_cluster_alert_once(app, chat) -> None:  # type: ignore[no-untyped-def]
    staff = chat("demo:staff1")
    for room in ("101", "201", "301", "401"):
        staff.say(f"帮 3 栋 2 单元 {room} 报：楼道的灯坏了")
        staff.say("对")
    alerts = [m for m in chat("demo:grid1").inbox() if "预警" in m]
    assert len(alerts) == 1 and "3 件" in alerts[0]
