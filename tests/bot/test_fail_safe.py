"""Fail safe: nobody who may be in danger is dismissed, and nothing a resident says is lost."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from data.models import RiskCheck, Ticket

TICKET_NO = re.compile(r"单号 (\d{6})")
# The conversations found dismissed or lost (issue 16), and likes of them written apart.
DANGER = [
    "我男人又动手了，把我脑壳打破了",
    "你们赶紧派人来，出大事了",
    "老人家喘不上气，嘴唇都紫了",
    "电线在冒火花，墙都烫了",
    "小孩把手卡在门缝里拔不出来了",
    "有人在敲我的门，说要弄死我",
]


def urgent_tickets(app) -> list[Ticket]:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        return list(s.scalars(select(Ticket).where(Ticket.urgent.is_(True))))


@pytest.mark.parametrize("text", DANGER)
def test_danger_said_plainly_raises_the_alarm(app, chat, text: str) -> None:  # type: ignore[no-untyped-def]
    answer = chat("demo:resident2").say(text)
    assert "紧急" in answer and "帮不上" not in answer and "不用催办" not in answer
    [ticket] = urgent_tickets(app)
    assert ticket.description == text
    alerts = chat("demo:leader1").inbox() + chat("demo:grid1").inbox() + chat("demo:duty").inbox()
    assert any("紧急求助" in a for a in alerts)


def test_suspected_risk_asks_the_safety_question_and_yes_raises_the_alarm(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("demo:resident1")
    question = me.say("这日子过不下去了")
    assert "您现在有危险吗" in question and "按 1" in question
    assert urgent_tickets(app) == []
    alarm = me.say("1")
    assert "紧急" in alarm
    [ticket] = urgent_tickets(app)
    assert "日子过不下去" in ticket.description  # the alert carries the words that raised the question
    with app.db.session() as s:
        check = s.scalars(select(RiskCheck)).one()
        assert (check.outcome, check.ticket_id) == ("confirmed", ticket.id) and "self_harm" in check.cues


def test_no_danger_lets_the_message_go_on_as_meant(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("demo:resident1")
    assert "您现在有危险吗" in me.say("楼道的灯坏了，晚上黑黢黢的，好怕")
    answer = me.say("没有")
    assert "路灯楼道灯损坏" in answer and "对吗" in answer  # the report, read back as usual
    assert urgent_tickets(app) == []
    with app.db.session() as s:
        assert s.scalars(select(RiskCheck)).one().outcome == "declined"


def test_a_danger_declined_that_the_machine_cannot_file_reaches_a_person(app, chat) -> None:  # type: ignore[no-untyped-def]
    """「他老是打我」, not in danger this minute: not 「帮不上」 but a 留言 for the leader with the words."""
    me = chat("demo:resident1")
    assert "您现在有危险吗" in me.say("他老是打我")
    passed = me.say("2")
    m = TICKET_NO.search(passed)
    assert m and "转给联户长" in passed and "帮不上" not in passed, passed
    [task] = [t for t in chat("demo:leader1").inbox() if m.group(1) in t]
    assert "他老是打我" in task
    assert urgent_tickets(app) == []
    with app.db.session() as s:
        assert s.scalars(select(RiskCheck)).one().outcome == "declined"
        assert [t.kind for t in s.scalars(select(Ticket))] == ["message"]


@pytest.mark.parametrize("said", ["我不行了", "求你了"])
def test_a_bare_cry_declined_reaches_a_person_not_a_no_or_a_thanks(app, chat, said: str) -> None:  # type: ignore[no-untyped-def]
    """「我不行了」 reads as a no and 「求你了」 as a thanks; after 「没有危险」 the words still go to the leader,
    also while a report is being collected (a no there would have dropped it)."""
    me = chat("demo:resident1")
    assert "遇到了什么问题" in me.say("你们快点派个人来嘛")
    assert "您现在有危险吗" in me.say(said)
    passed = me.say("2")
    m = TICKET_NO.search(passed)
    assert m and "转给联户长" in passed and "不登记" not in passed, passed
    assert any(said in t for t in chat("demo:leader1").inbox() if m.group(1) in t)
    assert urgent_tickets(app) == []


def test_an_unclear_answer_is_asked_once_more_then_counts_as_yes(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("demo:resident1")
    me.say("这日子过不下去了")
    again = me.say("啊？你说啥子")
    assert "有危险请按 1" in again
    assert "紧急" in me.say("嗯嗯")
    assert len(urgent_tickets(app)) == 1


def test_a_new_report_while_one_is_read_back_is_held_not_lost(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("demo:resident1")
    assert "水管漏水" in me.say("我家水管漏水了")
    light = me.say("还有，楼道的灯也坏了好几天了")
    assert "路灯楼道灯损坏" in light and "对吗" in light
    first = me.say("对")
    assert TICKET_NO.search(first) and "我们接着刚才的" in first and "水管漏水" in first  # asked again
    second = me.say("对")
    assert TICKET_NO.search(second)
    with app.db.session() as s:
        assert sorted(s.scalars(select(Ticket.item))) == ["lighting", "water_pipe"]


def test_a_status_question_while_a_report_is_pending_is_answered_then_the_report_resumes(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("demo:resident1")
    me.say("我家水管漏水了")
    status = me.say("我之前报的事情办得咋样了")
    assert "没有正在办理" in status and "我们接着刚才的" in status and "水管漏水" in status
    assert TICKET_NO.search(me.say("1"))


def test_an_emergency_preempts_a_pending_report_which_is_kept(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("demo:resident1")
    me.say("我家水管漏水了")
    assert "紧急" in me.say("救命，我老伴倒在厕所头了")
    later = me.say("谢谢")
    assert "我们接着刚才的" in later and "水管漏水" in later
    assert TICKET_NO.search(me.say("对"))


def test_out_of_scope_says_what_lianhu_can_do_and_offers_a_person(app, chat) -> None:  # type: ignore[no-untyped-def]
    answer = chat("demo:resident1").say("明天股票会不会涨")
    assert "反映问题" in answer and "按 0" in answer and "0 转人工" in answer


def test_two_messages_nobody_understands_reach_a_person(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("demo:resident1")
    first = me.say("阿巴阿巴 咕噜咕噜")
    assert "帮不上" in first and "按 0" in first
    offer = me.say("呜哩哇啦 叽里咕噜")
    assert "转给联户长" in offer and "1 转给联户长" in offer
    passed = me.say("1")
    m = TICKET_NO.search(passed)
    assert m and "转给联户长" in passed
    [task] = [t for t in chat("demo:leader1").inbox() if m.group(1) in t]
    assert "阿巴阿巴" in task and "叽里咕噜" in task


def test_a_long_complaint_nobody_taught_us_becomes_a_message(app, chat) -> None:  # type: ignore[no-untyped-def]
    for who, text in (
        ("demo:resident1", "请问为什么我们反映了多次的问题至今迟迟没有得到解决"),
        ("demo:resident2", "强烈要求有关部门解释为什么我们这里的事情长期没有人管"),
    ):
        passed = chat(who).say(text)
        assert TICKET_NO.search(passed) and "转给" in passed, passed
    with app.db.session() as s:
        assert [t.kind for t in s.scalars(select(Ticket))] == ["message", "message"]


def test_main_menu_choices_are_printed_once(chat) -> None:  # type: ignore[no-untyped-def]
    menu = chat("demo:resident1").say("你好")
    assert menu.count("反映问题") == 1 and "1 反映问题 2 查询进度 3 找联户长 0 转人工" in menu


def test_leader_tasks_mark_emergencies_and_overdue(app, chat, clock) -> None:  # type: ignore[no-untyped-def]
    chat("demo:resident1").say("我家水管漏水了")
    chat("demo:resident1").say("对")
    chat("demo:resident2").say("救命，我老伴倒在地上起不来了")
    clock.advance(hours=13)
    tasks = chat("demo:leader1").say("我的任务")
    assert re.search(r"紧急[^单]*单号", tasks) and "逾期" in tasks, tasks


def test_the_weekly_report_counts_safety_questions(app, chat) -> None:  # type: ignore[no-untyped-def]
    from data.reports import build_report, format_report

    me = chat("demo:resident1")
    me.say("这日子过不下去了")
    me.say("2")
    chat("demo:resident2").say("这日子过不下去了")
    chat("demo:resident2").say("1")
    with app.db.session() as s:
        report = build_report(
            app.context(s), "week", end=(app.clock.now() + timedelta(days=1)).date().isoformat()
        )
    text = format_report(report, "md")
    assert "安全询问" in text and report.safety == {
        "asked": 2,
        "confirmed": 1,
        "declined": 1,
        "unanswered": 0,
    }


def test_invitation_codes_are_never_taken_for_danger(parser) -> None:  # type: ignore[no-untyped-def]
    """A code has no words: the semantic check, which compares meaning, must not see danger in it
    (it once asked the safety question on 9HSVWU, and the resident could not bind)."""
    import random

    from data.registry import ALPHABET

    rng = random.Random(24)
    codes = ["9HSVWU", "7CWYAE"] + ["".join(rng.choice(ALPHABET) for _ in range(6)) for _ in range(3000)]
    assert [c for c in codes if parser.parse(c).risk] == []
    assert parser.parse("我男人又动手了，把我脑壳打破了").risk == "emergency"


@pytest.mark.parametrize("said", ["门外 有人 撬", "喘不过 气 快"])
def test_a_few_words_of_alarm_are_still_compared_for_danger(parser, said: str) -> None:  # type: ignore[no-untyped-def]
    """Five Chinese characters in broken phrases: too short for the count of Chinese characters alone,
    but words, not a code; the semantic check must still see them (before: 门外 有人 撬 was an ordinary report)."""
    assert parser.parse(said).risk is not None


def test_a_plea_to_send_someone_with_nothing_open_is_asked_what_happened(app, chat) -> None:  # type: ignore[no-untyped-def]
    """「你们快点派个人来嘛」 is urging about something never told here: not 「不用催办」, but what happened?"""
    me = chat("demo:resident2")
    answer = me.say("你们快点派个人来嘛")
    assert "遇到了什么问题" in answer and "不用催办" not in answer
    assert "紧急" in me.say("我家门口有个人一直在砸门，说要弄死我")
    [ticket] = urgent_tickets(app)
    assert "砸门" in ticket.description
