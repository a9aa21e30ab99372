"""Notice receipts on the workbench in real headless Chromium against the real server: a leader sees
her unit's households for her own notice and for a community-wide one, with each household's
receipt and the doors to knock on; another unit's leader gets a 404; staff see the whole community."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App
from core.settings import Settings
from data.models import Notice, Staff
from tests.bot.test_workbench_browser import LEADER1, STAFF, TABLET, Desk
from tests.bot.test_workbench_browser import browser as browser  # noqa: PLC0414 - the module's browser
from tests.channels.conftest import LiveServer
from tests.data.test_notice_desk import unit1_notice_with_outcomes

pytestmark = pytest.mark.slow


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """In the browser, SQLite only: the same services are tested on PostgreSQL in tests/data."""
    return f"sqlite:///{tmp_path / 'lianhu.db'}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The served scheduler passes once at start-up and not again (no pass mid-test re-dating rows)."""
    return replace(settings, deadlines=replace(settings.deadlines, scheduler_interval_seconds=3600))


@pytest.fixture
def live(app: App, chat) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The server, started once the notices are out: leader 1's to unit 1 (with call outcomes) and
    staff's to the whole community."""
    unit1_notice_with_outcomes(app, chat)
    staff = chat("demo:staff1")
    staff.say("通知 全社区：周六上午大扫除")
    staff.say("1")
    server = LiveServer(app)
    yield server
    server.stop()


def cell(desk: Desk, room: str, column: str) -> str:
    return str(desk.page.inner_text(f'#receipts tr[data-household="3 栋 2 单元 {room}"] {column}'))


def test_leader_sees_her_units_receipts_and_the_doors_to_knock_on(live: LiveServer, browser: Any) -> None:
    desk = Desk(browser, live)
    desk.sign_in(LEADER1)
    desk.page.click("header nav a:has-text('通知回执')")
    desk.page.wait_for_function("() => document.querySelectorAll('#notices tbody tr').length === 2")
    listing = desk.page.inner_text("#notices")
    assert "明天上午 9 点到 12 点停水" in listing and "周六上午大扫除" in listing
    desk.page.click("#notices a:has-text('停水')")
    desk.page.wait_for_function("() => document.querySelector('#receipts') !== null")
    assert desk.page.inner_text("[data-figure=households]") == "12 户"
    assert desk.page.inner_text("[data-figure=unreached]") == "1 户"
    assert desk.page.inner_text("[data-figure=answered]") == "2 户"
    assert "3 栋 2 单元 602" in desk.page.inner_text("#unreached")
    assert "无人接听" in desk.page.inner_text("#unreached")
    assert desk.page.locator("#receipts tbody tr").count() == 12
    assert "电话按键" in cell(desk, "502", "td:nth-child(5)") and cell(desk, "502", ".reach") == "已联系上"
    assert cell(desk, "301", "td:nth-child(4)") == "已送到"
    assert cell(desk, "602", ".reach") == "未联系上" and "没打通" in cell(desk, "602", "td:nth-child(6)")
    desk.open("/notices/2")  # the community's notice: only her unit's 12 households
    assert desk.page.locator("#receipts tbody tr").count() == 12
    desk.close()


def test_other_units_leader_refused_staff_see_the_community(app: App, live: LiveServer, browser: Any) -> None:
    with app.db.session() as s:  # leader 2 (unit 2) signs in with her phone
        leader2 = s.scalars(select(Staff.phone).where(Staff.role == "leader").order_by(Staff.id)).all()[1]
    other = Desk(browser, live)
    other.sign_in(leader2)
    assert other.open("/notices/1").status == 404
    assert "没有找到" in other.page.inner_text("#refused")
    other.open("/notices")
    assert other.page.locator("#notices tbody tr").count() == 1  # only the community's notice
    other.close()
    staff = Desk(browser, live, TABLET)
    staff.sign_in(STAFF)
    staff.open("/notices/2")
    assert staff.page.locator("#receipts tbody tr").count() == 72
    assert staff.page.inner_text("[data-figure=households]") == "72 户"
    staff.close()


def test_a_consultation_shows_each_households_vote(app: App, chat, browser: Any) -> None:  # type: ignore[no-untyped-def]
    leader, wang = chat("demo:leader1"), chat("demo:resident1")
    leader.say("加装电梯方案：1 同意 2 不同意 3 弃权，周五 18 点截止")
    leader.say("1")
    wang.say("1")
    server = LiveServer(app)
    try:
        desk = Desk(browser, server)
        desk.sign_in(LEADER1)
        desk.open("/notices/1")
        assert desk.page.inner_text("[data-figure=tally]") == "1 户：同意 1 票，不同意 0 票，弃权 0 票"
        assert cell(desk, "502", ".vote") == "同意" and cell(desk, "601", ".vote") == "—"
        desk.close()
    finally:
        server.stop()


def test_a_leader_sends_a_notice_from_the_workbench(app: App, chat, browser: Any) -> None:  # type: ignore[no-untyped-def]
    """Drafted on the page, read back with its scope and households, sent on confirming: it reaches the
    unit's residents like one said in the chat; a scope outside hers is refused before anything is sent."""
    wang = chat("demo:resident1")
    server = LiveServer(app)
    try:
        desk = Desk(browser, server)
        desk.sign_in(LEADER1)
        desk.open("/notices")
        desk.page.fill("#notice-text", "本周六上午 9 点 楼道大扫除")
        desk.page.fill("#notice-scope", "全社区")
        desk.page.click("#notice-new button[type=submit]")
        desk.page.wait_for_function("() => document.querySelector('.flash.bad') !== null")
        assert "不在您的负责范围内" in desk.page.inner_text(".flash")
        with app.db.session() as s:
            assert s.scalar(select(func.count(Notice.id))) == 0
        desk.page.fill("#notice-text", "本周六上午 9 点 楼道大扫除")
        desk.page.click("#notice-new button[type=submit]")
        desk.page.wait_for_function("() => document.querySelector('#notice-draft') !== null")
        assert desk.page.inner_text("[data-figure=count]") == "12"
        assert desk.page.inner_text("[data-figure=text]") == "本周六上午 9 点 楼道大扫除"
        with app.db.session() as s:  # reading back sends nothing
            assert s.scalar(select(func.count(Notice.id))) == 0
        form = {
            name: desk.page.get_attribute(f"#notice-draft input[name={name}]", "value") or ""
            for name in ("csrf", "text", "scope", "draft")
        }
        desk.page.click("#notice-draft button[type=submit]")
        desk.page.wait_for_function("() => document.querySelector('#receipts') !== null")
        assert "通知已发出" in desk.page.inner_text(".flash")
        assert desk.page.locator("#receipts tbody tr").count() == 12
        sent_at = desk.page.url
        # 确认发送 pressed again (a double click, a resubmitted page): nothing more goes out.
        again = desk.page.request.post(f"{desk.url}/notices/send", form=form)
        assert again.ok and again.url.split("?")[0] == sent_at.split("?")[0]
        assert "已经发出，没有再发一次" in again.text()
        desk.close()
    finally:
        server.stop()
    assert wang.inbox() == ["张桂芳通知：本周六上午 9 点 楼道大扫除 收到请回 1。"]
    assert "收到了" in wang.say("1")
    with app.db.session() as s:
        assert s.scalar(select(func.count(Notice.id))) == 1
