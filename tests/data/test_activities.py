"""Activities (活动组织): announced to residents in scope, sign-up by 报名 or a key, a waitlist when
full that moves up on a cancellation, a reminder the day before (controllable clock), attendance
counted in the leaders' figures."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from data.models import Activity, ActivitySignup
from data.services.directory import find_identity
from data.services.figures import leaders
from handlers.activities import parse_when

# The clock starts 2026-11-02 01:00 UTC (09:00 in Shanghai); the activity is 11-04 15:00 local.
ANNOUNCE = "发起活动 重阳节包饺子；11月4日下午3点；社区活动室；1人"
STARTS_UTC = datetime(2026, 11, 4, 7, 0)


def announce(chat) -> str:  # type: ignore[no-untyped-def]
    reply = chat("demo:leader1").say(ANNOUNCE)
    assert "活动已发布" in reply and "已通知 2 个账号" in reply
    return re.search(r"活动号 (\d{4})", reply).group(1)


def test_full_activity_waitlist_moves_up(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = announce(chat)
    first, second = chat("demo:resident1"), chat("demo:resident2")
    notice = first.inbox()
    assert notice and "重阳节包饺子" in notice[0] and "11月4日15点" in notice[0] and "按 1" in notice[0]
    assert "报名成功" in first.say("1")  # the announcement's key
    assert "候补第 1 位" in second.say("报名")
    assert "候补第 1 位" in second.say(f"报名 {no}")  # asked again: the same place
    roster = chat("demo:leader1").say(f"名单 {no}")
    assert "1 王秀英" in roster and "2 李建国" in roster and "（候补）" in roster
    assert "已取消报名" in first.say("取消报名")
    assert any("从候补转为正式报名" in m for m in second.inbox())
    with app.db.session() as s:
        activity = s.scalar(select(Activity).where(Activity.public_no == no))
        statuses = sorted(
            s.scalars(select(ActivitySignup.status).where(ActivitySignup.activity_id == activity.id))
        )
    assert statuses == ["cancelled", "signed"]
    assert "候补第 1 位" in first.say("报名")  # full again: back on the waitlist
    assert "已取消报名" in first.say("取消报名")
    assert "没有可以取消的报名" in first.say("取消报名")


def test_reminder_the_day_before(app, chat, clock) -> None:  # type: ignore[no-untyped-def]
    no = announce(chat)
    resident = chat("demo:resident1")
    resident.say("报名")
    clock.advance(hours=29)  # 11-03 06:00 UTC: 25 hours before
    assert app.run_scheduler_once().reminded == []
    clock.advance(hours=2)  # 23 hours before
    assert app.run_scheduler_once().reminded == [no]
    assert app.run_scheduler_once().reminded == []  # once
    reminders = [m for m in resident.inbox() if m.startswith("活动提醒")]
    assert len(reminders) == 1 and "重阳节包饺子" in reminders[0]
    assert not any(m.startswith("活动提醒") for m in chat("demo:resident2").inbox())  # no place, no reminder


def organized(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from data.services.directory import actor_for

    with app.db.session() as s:
        ctx = app.context(s)
        (row,) = leaders(ctx, actor_for(ctx, find_identity(ctx, "demo:leader1")))
        return row.activities, row.attended


def test_attendance_counts_for_the_leader(app, chat, clock) -> None:  # type: ignore[no-untyped-def]
    activities, attended = organized(app)  # the demo community's own activity 1001 among them
    no = announce(chat)
    chat("demo:resident1").say("报名")
    leader = chat("demo:leader1")
    assert "已签到 1 人" in leader.say(f"签到 {no} 1")
    assert "不是您组织的" in chat("demo:leader2").say(f"签到 {no} 1")
    assert organized(app) == (activities + 1, attended + 1)


def test_demo_activity_out_of_scope_and_parsing(app, chat) -> None:  # type: ignore[no-untyped-def]
    assert "报名成功" in chat("demo:resident2").say("报名 1001")  # the demo community's activity
    announce(chat)
    assert "没有可以报名的活动" in chat("demo:resident2").say("报名 9999")
    assert "请这样发" in chat("demo:leader1").say("发起活动 包饺子")
    now = datetime(2026, 11, 2, 9, 0)
    assert parse_when("12月6日下午3点半", now) == datetime(2026, 12, 6, 15, 30)
    assert parse_when("2027-01-02 09:00", now) == datetime(2027, 1, 2, 9, 0)
    assert parse_when("10月1日9点", now) == datetime(2027, 10, 1, 9, 0)  # already past this year
    assert parse_when("下周", now) is None
