"""The large-print web page driven in real headless Chromium (Playwright + Debian's chromium)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from bot.app import App
from tests.channels.conftest import CHROMIUM_ARGS, LiveServer, web_token
from tests.conftest import Chat

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
pytestmark = pytest.mark.slow


def open_page(pw, chromium_path: str, url: str, *extra_args: str, read_aloud: bool = False):  # type: ignore[no-untyped-def]
    browser = pw.chromium.launch(executable_path=chromium_path, args=[*CHROMIUM_ARGS, *extra_args])
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    if not read_aloud:
        context.add_init_script("localStorage.setItem('lianhu.read', 'off')")
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => window.lianhuReady === true")
    return browser, page


def test_invitation_link_report_confirm_ticket_and_push(
    app: App, live: LiveServer, chromium_path: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    token = web_token(app, "demo:resident1")
    with sync_playwright() as pw:
        browser, page = open_page(pw, chromium_path, f"{live.url}/chat?token={token}")
        try:
            assert "token=" not in page.url  # the token leaves the address bar
            size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.msg')).fontSize)")
            assert size >= 20
            page.fill("#text", "我家水管漏水了")
            page.press("#text", "Enter")
            yes = page.locator("#choices button[data-digit='1']")
            yes.wait_for()
            assert yes.bounding_box()["height"] >= 60  # type: ignore[index]
            assert "水管漏水" in page.inner_text("#log")
            yes.click()
            # locators, not string predicates: the page's CSP refuses eval (as it should)
            page.locator("#log").filter(has_text=re.compile(r"单号 \d+")).wait_for()
            number = re.search(r"单号 (\d+)", page.inner_text("#log")).group(1)  # type: ignore[union-attr]
            # the README's picture: rewritten when missing or when LIANHU_UPDATE_SCREENSHOT=1
            readme_shot = ROOT / "docs/web-chat.png"
            update = not readme_shot.exists() or os.environ.get("LIANHU_UPDATE_SCREENSHOT") == "1"
            shot = readme_shot if update else tmp_path / "web-chat.png"
            shot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
            # the leader accepts: the resident's page shows the pushed update (outbox → SSE)
            Chat(app, "demo:leader1").say(f"接单 {number}")
            page.wait_for_selector(".msg.pushed", timeout=15000)
            assert number in page.inner_text(".msg.pushed")
            # a reload keeps the token (stored on the phone) and the conversation goes on
            page.reload()
            page.wait_for_function("() => window.lianhuReady === true")
            page.fill("#text", "我报的事情咋样了")
            page.press("#text", "Enter")
            page.locator("#log .msg.bot").filter(has_text=f"{number}").last.wait_for()
        finally:
            browser.close()


def test_bad_link_is_refused(app: App, live: LiveServer) -> None:
    assert httpx.get(f"{live.url}/chat").status_code == 200
    r = httpx.post(f"{live.url}/api/chat", json={"text": "你好"}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert httpx.get(f"{live.url}/api/events", params={"token": "nope"}).status_code == 401


VOICE_FIXTURE = ROOT / "tests/voice/fixtures/req01_water_pipe.ogg"


@pytest.mark.skipif(not VOICE_FIXTURE.exists(), reason="voice fixtures not present")
def test_hold_to_talk_voice_note_and_spoken_reply(
    app: App, live: LiveServer, chromium_path: str, tmp_path: Path
) -> None:
    """Chromium's fake microphone plays a recorded request; the page records, uploads, plays the answer."""
    from playwright.sync_api import sync_playwright

    from voice import codecs

    wav = tmp_path / "mic.wav"
    pcm = codecs.decode(VOICE_FIXTURE.read_bytes(), "ogg")
    wav.write_bytes(codecs.encode(b"\0" * 8000 + pcm + b"\0" * 16000, "wav"))
    token = web_token(app, "demo:resident1")
    with sync_playwright() as pw:
        browser, page = open_page(
            pw,
            chromium_path,
            f"{live.url}/chat?token={token}",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}%noloop",
            "--autoplay-policy=no-user-gesture-required",
            read_aloud=True,
        )
        try:
            page.context.grant_permissions(["microphone"])
            seconds = codecs.duration(pcm) + 1.5
            box = page.locator("#mic").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.wait_for_timeout(int(seconds * 1000))
            page.mouse.up()
            page.wait_for_selector("#choices button[data-digit='1']", timeout=60000)
            log = page.inner_text("#log")
            assert "水管" in log, log
            page.wait_for_function(
                "() => window.lianhuPlayed >= 1", timeout=30000
            )  # the spoken answer played
        finally:
            browser.close()
