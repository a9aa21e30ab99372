"""The workbench driven in real headless Chromium (Playwright + Debian's chromium) against the real
server: sign-in and lockout, the board's filters and live updates, a matter resolved from its page
reaching the resident, refusals (another grid's matter, the audit log, a POST without its CSRF token),
a resident's HTML shown as text, an import previewed with its bad rows and nothing written.
Screenshots for the README are written to docs/ when missing or when LIANHU_UPDATE_SCREENSHOT=1."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import App
from core.settings import Settings
from data.demo import DEMO_PASSWORD
from data.models import Resident, Ticket
from tests.channels.conftest import CHROMIUM_ARGS, LiveServer, web_token
from tests.data.test_workbench import seed

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
STAFF, GRID1, LEADER1 = "08510000001", "13700000001", "13900000101"
pytestmark = pytest.mark.slow


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """In the browser, SQLite only: the same services are tested on PostgreSQL in tests/data."""
    return f"sqlite:///{tmp_path / 'lianhu.db'}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One browser for the module (a new context, so new cookies, per test)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.skip("Debian chromium not installed (scripts/system-deps.sh test)")
    sync_api = pytest.importorskip("playwright.sync_api")
    pw = sync_api.sync_playwright().start()
    b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The served scheduler passes once at start-up and not again: these tests move the clock past
    deadlines and read the board as it stands, which a pass mid-test would escalate and re-date."""
    return replace(settings, deadlines=replace(settings.deadlines, scheduler_interval_seconds=3600))


@pytest.fixture
def live(app: App) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


class Desk:
    """One person's browser tab on the workbench; collects CSP violations reported to the console."""

    def __init__(self, browser: Any, live: LiveServer, viewport: dict[str, int] = DESKTOP) -> None:
        self.url = live.url + "/workbench"
        self.context = browser.new_context(viewport=viewport, locale="zh-CN")
        self.page = self.context.new_page()
        self.csp: list[str] = []
        self.page.on(
            "console", lambda m: self.csp.append(m.text) if "Content Security Policy" in m.text else None
        )

    def sign_in(self, phone: str, password: str = DEMO_PASSWORD) -> None:
        self.page.goto(f"{self.url}/login")
        self.page.fill("#phone", phone)
        self.page.fill("#password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def open(self, path: str) -> Any:
        response = self.page.goto(self.url + path)
        self.page.wait_for_function("() => window.workbenchReady === true")
        return response

    def close(self) -> None:
        assert self.csp == [], self.csp
        self.context.close()


def shot(page: Any, name: str, tmp_path: Path) -> None:
    target = ROOT / "docs" / name
    update = not target.exists() or os.environ.get("LIANHU_UPDATE_SCREENSHOT") == "1"
    path = target if update else tmp_path / name
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000


def history(app: App, weeks: int = 10, per_week: int = 24) -> None:
    """Closed matters over past weeks (accepted, resolved, rated; some emergencies), so the figures
    page has something to draw."""
    import random
    from datetime import timedelta

    from data.models import Rating, Staff, Unit

    rng = random.Random(19)
    items = app.catalog.items()
    now = app.clock.now()
    with app.db.session() as s:
        units = list(s.scalars(select(Unit)))
        leaders = {st.unit_id: st.id for st in s.scalars(select(Staff).where(Staff.role == "leader"))}
        community = s.scalar(select(func.min(Staff.community_id)))
        for n in range(weeks * per_week):
            item, unit = items[rng.randrange(len(items))], units[n % len(units)]
            created = now - timedelta(hours=1 + n * 168 * weeks / (weeks * per_week))
            accepted = created + timedelta(hours=rng.uniform(0.5, 30))
            resolved = accepted + timedelta(hours=rng.uniform(2, 60))
            urgent = n % 23 == 0
            t = Ticket(
                public_no=str(700000 + n), community_id=community, category=item.category, item=item.code,
                description="历史记录", urgent=urgent, status="closed", tier=1, unit_id=unit.id,
                grid_id=unit.grid_id, assignee_id=leaders.get(unit.id), source_channel="web",
                created_at=created, updated_at=resolved, accept_due_at=created + timedelta(hours=24),
                resolve_due_at=created + timedelta(hours=72), accepted_at=accepted, resolved_at=resolved,
                closed_at=resolved, acknowledged_at=created + timedelta(minutes=rng.uniform(3, 40)) if urgent else None,
            )  # fmt: skip
            s.add(t)
            s.flush()
            s.add(
                Rating(
                    ticket_id=t.id, score=rng.choice((1, 1, 1, 1, 2, 2, 3)), comment="", created_at=resolved
                )
            )


def status_of(app: App, no: str) -> str:
    with app.db.session() as s:
        return s.scalar(select(Ticket.status).where(Ticket.public_no == no)) or ""


def test_sign_in_wrong_password_then_lockout(app: App, live: LiveServer, browser: Any) -> None:
    desk = Desk(browser, live)
    page = desk.page
    page.goto(f"{desk.url}/")
    assert "/workbench/login" in page.url  # signed out: the board sends you to sign in
    for attempt in range(5):
        desk.sign_in(GRID1, "not-the-password")
        text = page.inner_text("#error")
        assert ("锁定" in text) if attempt == 4 else ("手机号或密码不对" in text)
    desk.sign_in(GRID1)  # the right password, but the phone is locked
    assert "锁定" in page.inner_text("#error") and "/login" in page.url
    desk.sign_in(STAFF)  # someone else signs in as usual
    assert page.url.endswith("/workbench/") and "社区办公室" in page.inner_text("header")
    desk.close()
    from data.services.staff_auth import issue_link

    with app.db.session() as s:
        token = issue_link(app.context(s), app.settings.workbench, "demo:leader1")
    by_link = Desk(browser, live)
    by_link.page.goto(f"{by_link.url}/link/{token}")
    by_link.page.click("button[type=submit]")
    by_link.page.wait_for_load_state()
    assert by_link.page.url.endswith("/workbench/account") and "张桂芳" in by_link.page.inner_text("header")
    assert by_link.page.goto(f"{by_link.url}/link/{token}").status == 410  # once only
    by_link.close()


def test_board_filters_live_update_and_tablet(
    app: App, live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    pipe = seed(app, "water_pipe", "厨房水管漏水，地上全是水")
    seed(app, "lighting", "三楼楼道灯坏了好几天")
    noise = seed(app, "noise", "楼上半夜敲打", who="demo:leader5", address=("1", "1", "301"))
    sos = seed(app, "elder_health", "老人在家摔倒了起不来", urgent=True)
    app.clock.advance(hours=2)  # type: ignore[attr-defined]
    late_one = seed(app, "sanitation", "楼下垃圾没人清")
    app.clock.advance(hours=23)  # type: ignore[attr-defined]
    desk = Desk(browser, live)
    desk.sign_in(STAFF)
    page = desk.page
    page.wait_for_function("() => window.workbenchReady === true")
    assert page.locator("#pinned").inner_text().count(sos) == 1  # the emergency is pinned
    assert page.locator("#matters tbody tr").first.get_attribute("data-no") == sos
    page.select_option("select[name=category]", "mediation")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state()
    assert [r.get_attribute("data-no") for r in page.locator("#matters tbody tr").all()] == [noise]
    page.goto(f"{desk.url}/?q=水管")
    assert [r.get_attribute("data-no") for r in page.locator("#matters tbody tr").all()] == [pipe]
    page.goto(f"{desk.url}/?emergency=1")
    assert [r.get_attribute("data-no") for r in page.locator("#matters tbody tr").all()] == [sos]
    desk.open("/?overdue=1")
    late = page.locator("#matters tbody tr.late")
    assert late.count() >= 2 and "超时" in late.first.inner_text()
    assert page.locator(f"tr[data-no='{late_one}']").count() == 0  # due in an hour: not overdue yet
    color = page.eval_on_selector("tr.late .due", "e => getComputedStyle(e).color")
    assert color == "rgb(176, 0, 32)"  # overdue in red
    desk.open("/")
    shot(page, "workbench-board.png", tmp_path)
    fresh = seed(app, "drain_blocked", "下水道堵了，返臭")  # the page hears of it by itself
    page.wait_for_selector(f"tr[data-no='{fresh}']", timeout=15000)
    desk.close()
    tablet = Desk(browser, live, TABLET)
    tablet.sign_in(STAFF)
    assert tablet.page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    tablet.close()


def test_matter_resolved_from_its_page_reaches_the_resident(
    app: App, live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    no = seed(app, "water_pipe", '水管漏了<script>alert("x")</script><b>快来</b>')
    token = web_token(app, "demo:resident1")
    desk = Desk(browser, live)
    desk.sign_in(STAFF)
    desk.open(f"/matters/{no}")
    page = desk.page
    words = page.locator("#words")
    assert '<script>alert("x")</script><b>快来</b>' in words.inner_text()  # shown as text
    assert words.locator("b, script").count() == 0
    page.click("form[data-op=accept] button")
    page.wait_for_selector(".flash")
    page.fill("form[data-op=resolve] textarea", "已更换水管接头")
    page.click("form[data-op=resolve] button")
    page.wait_for_selector(".flash")
    assert status_of(app, no) == "resolved"
    assert "办结" in page.inner_text("#timeline")
    shot(page, "workbench-matter.png", tmp_path)
    inbox: list[str] = []
    for _ in range(60):  # the outbox worker of the live server delivers within a second or two
        got = httpx.get(f"{live.url}/api/messages", headers={"Authorization": f"Bearer {token}"}).json()
        inbox = [m["text"] for m in got["messages"]]
        if any("已经办好了" in m for m in inbox):
            break
        page.wait_for_timeout(250)
    assert any(no in m and "已经办好了" in m and "已更换水管接头" in m for m in inbox), inbox
    desk.close()


def test_refusals_other_grid_audit_log_and_csrf(app: App, live: LiveServer, browser: Any) -> None:
    far = seed(app, "noise", "楼上吵", who="demo:leader5", address=("1", "1", "301"))
    grid = Desk(browser, live)
    grid.sign_in(GRID1)
    assert grid.open(f"/matters/{far}").status == 404
    assert "没有找到" in grid.page.inner_text("#refused")
    mine = seed(app)
    grid.open(f"/matters/{mine}")
    csrf = grid.page.get_attribute("form[data-op=accept] input[name=csrf]", "value")
    refused = grid.page.request.post(
        f"{grid.url}/matters/{far}/act", form={"csrf": csrf, "op": "accept"}, max_redirects=0
    )
    assert refused.status == 404 and status_of(app, far) == "submitted"
    no_token = grid.page.request.post(
        f"{grid.url}/matters/{mine}/act", form={"op": "accept"}, max_redirects=0
    )
    assert no_token.status == 403 and status_of(app, mine) == "submitted"
    wrong_token = grid.page.request.post(
        f"{grid.url}/matters/{mine}/act", form={"op": "accept", "csrf": "forged"}, max_redirects=0
    )
    assert wrong_token.status == 403 and status_of(app, mine) == "submitted"
    grid.close()
    leader = Desk(browser, live)
    leader.sign_in(LEADER1)
    assert leader.page.locator("header nav a", has_text="审计日志").count() == 0
    assert leader.open("/audit").status == 403
    leader.close()
    staff = Desk(browser, live)
    staff.sign_in(STAFF)
    staff.open("/audit")
    log = staff.page.inner_text("#audit")
    assert "refused" in log and "signin" in log and "workbench page audit" in log
    staff.close()


def test_import_with_bad_rows_is_previewed_and_nothing_written(
    app: App, live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "registry.csv"
    bad.write_text(
        "网格,联户单元,栋,单元,室,姓名,电话,出生年,独居,语音,角色\n"
        "第1网格,新一单元,9,1,101,测试甲,13600009101,1950,是,否,\n"
        "第1网格,新一单元,9,1,102,,12345,1850,否,否,\n"
        "第1网格,新一单元,9,1,103,测试丙,13600009103,1960,否,否,队长\n",
        encoding="utf-8",
    )
    with app.db.session() as s:
        before = s.scalar(select(func.count(Resident.id)))
    desk = Desk(browser, live)
    desk.sign_in(STAFF)
    desk.open("/registry/import")
    page = desk.page
    page.set_input_files("input[type=file]", str(bad))
    page.click("#upload button[type=submit]")
    page.wait_for_selector("#problems")
    problems = page.inner_text("#problems")
    assert "第 3 行" in problems and "第 4 行" in problems and "第 2 行" not in problems
    assert page.locator("#confirm").count() == 0
    with app.db.session() as s:
        assert s.scalar(select(func.count(Resident.id))) == before
    good = tmp_path / "good.csv"
    good.write_text("\n".join(bad.read_text(encoding="utf-8").splitlines()[:2]) + "\n", encoding="utf-8")
    page.set_input_files("input[type=file]", str(good))
    page.click("#upload button[type=submit]")
    page.wait_for_selector("#confirm")
    assert "residents: +1" in page.inner_text("#changes")
    with app.db.session() as s:
        assert s.scalar(select(func.count(Resident.id))) == before  # a preview writes nothing
    page.click("#confirm")
    page.wait_for_selector(".flash")
    with app.db.session() as s:
        assert s.scalar(select(func.count(Resident.id))) == before + 1
    desk.close()


def test_figures_map_alerts_and_card_pages(app: App, live: LiveServer, browser: Any, tmp_path: Path) -> None:
    for text in ("楼道灯坏了", "楼道灯又不亮了", "三楼楼道灯坏"):
        seed(app, "lighting", text)
    seed(app, "elder_health", "老人摔倒了", urgent=True)
    history(app)
    desk = Desk(browser, live)
    desk.sign_in(STAFF)
    desk.open("/figures")
    page = desk.page
    page.wait_for_function("() => window.workbenchCharts === 5")
    assert page.locator(".chart canvas").count() == 5
    assert "满意率" in page.inner_text("#summary")
    page.wait_for_timeout(300)
    shot(page, "workbench-figures.png", tmp_path)
    page.screenshot(path=str(tmp_path / "figures-full.png"), full_page=True)
    download = page.request.get(f"{desk.url}/figures.xlsx")
    assert download.ok and download.body()[:2] == b"PK"
    desk.open("/map")
    assert page.locator(".unit.heat-5").count() == 1
    desk.open("/alerts")
    assert page.locator("#emergencies .alert-row").count() == 1
    page.click("#clusters button[type=submit]")
    page.wait_for_selector(".flash")
    assert "社区办公室" in page.inner_text("#clusters")
    desk.open("/registry?q=王秀英")
    page.click("#households button[type=submit]")
    page.wait_for_selector(".invite svg")
    assert "3 栋 2 单元 502" in page.inner_text(".invite")
    desk.close()
