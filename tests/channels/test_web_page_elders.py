"""The chat page as elders meet it, in real headless Chromium at phone sizes: the latest answer readable
with its choices, axe-core in every state, 200 % zoom and landscape, voice fallbacks, offline resend,
the web app manifest. Screenshots go to docs/screenshots when LIANHU_UPDATE_SCREENSHOT=1."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import App
from core.render import OutMessage
from data.models import ProcessedMessage, PushedMessage
from data.services.directory import find_identity
from tests.channels.conftest import CHROMIUM_ARGS, LiveServer, web_token

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs/screenshots"
UPDATE = os.environ.get("LIANHU_UPDATE_SCREENSHOT") == "1"
PHONES = [(360, 640), (390, 844)]
pytestmark = pytest.mark.slow

# Geometry of the latest answer: the bot messages after the last thing the resident sent, the choices.
LATEST = """() => {
  const log = document.getElementById('log').getBoundingClientRect();
  const all = [...document.querySelectorAll('#messages > .msg')];
  let i = all.length - 1;
  while (i >= 0 && !all[i].classList.contains('me')) i--;
  const answer = all.slice(i + 1).filter((m) => m.classList.contains('bot'));
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right]; };
  return {
    log: [log.top, log.bottom, log.left, log.right], vh: innerHeight, vw: innerWidth,
    answer: answer.map((m) => ({ box: box(m), text: m.textContent })),
    choices: [...document.querySelectorAll('#choices button')].map((b) => ({ box: box(b), text: b.textContent })),
  };
}"""


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The page is the subject here: one database (SQLite); both backends are covered by the other tests."""
    return f"sqlite:///{tmp_path / 'lianhu.db'}"


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium_path,
            args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream"],
        )
        yield b
        b.close()


# What WeChat's WebView and phone browsers do and headless Chromium does not: refuse to play sound until the
# person has touched the page. (Playwright's own evaluate calls count as user gestures, so the real
# activation check cannot be used here.)
BLOCK_AUTOPLAY = """(() => {
  let touched = false;
  addEventListener("pointerdown", (e) => { touched = touched || e.isTrusted; }, true);
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    return touched ? play.call(this) : Promise.reject(new DOMException("needs a user gesture", "NotAllowedError"));
  };
})();"""


def open_chat(browser: Any, url: str, size: tuple[int, int], read_aloud: bool = False, init: str = "") -> Any:
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    if init:
        context.add_init_script(init)
    if not read_aloud:
        context.add_init_script("localStorage.setItem('lianhu.read', 'off')")
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => window.lianhuReady === true")
    return page


def say(page: Any, text: str) -> None:
    """Type and send; wait until the answer is shown and nothing is left to send."""
    n = page.locator("#messages .msg.bot").count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#messages .msg.bot').length > n && !localStorage.getItem('lianhu.outbox')",
        arg=n,
    )


def check_latest_answer(page: Any, want_choices: bool = True) -> dict[str, Any]:
    g = page.evaluate(LATEST)
    top, bottom = g["log"][0], min(g["log"][1], g["vh"])
    assert g["answer"], "no answer shown"
    for m in g["answer"]:
        assert m["box"][0] >= top - 1 and m["box"][1] <= bottom + 1, f"answer cut off: {m} in {g['log']}"
        assert m["box"][3] <= g["vw"] + 1
    if want_choices:
        assert g["choices"], f"no choices shown: {g}"
    for c in g["choices"]:
        assert c["box"][0] >= top - 1 and c["box"][1] <= bottom + 1, f"choice off screen: {c} in {g['log']}"
        digit, label = c["text"].split(" ", 1)
        # each choice appears once: as a button, not also as numbered text in the bubble
        assert all(f"{digit} {label}" not in m["text"] for m in g["answer"]), (c, g["answer"])
    return g


def scan(page: Any, state: str, counts: dict[str, Any]) -> None:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    counts[state] = {"violations": len(violations), "serious_or_critical": len(bad)}
    assert not bad, f"{state}: {bad}"


def shot(page: Any, name: str, tmp_path: Path) -> None:
    path = (SHOTS if UPDATE else tmp_path) / f"after-{name}.png"
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path))


def push(app: App, ref: str, body: str, choices: tuple[tuple[str, str], ...] = ()) -> None:
    """A message the outbox dispatcher delivered to this identity's inbox (as bot.notify stores it)."""
    with app.db.session() as s:
        ident = find_identity(app.context(s), ref)
        assert ident is not None
        text = OutMessage(body, (), choices).text
        s.add(
            PushedMessage(identity_id=ident.id, created_at=app.clock.now(), text=text, choices=list(choices))
        )


def test_latest_answer_readable_with_choices_and_no_serious_axe_violations(
    app: App, live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    counts: dict[str, Any] = {}
    words = app.strings
    for size, who in zip(PHONES, ["demo:resident1", "demo:resident2"], strict=True):
        tag = f"{size[0]}x{size[1]}"
        page = open_chat(browser, f"{live.url}/chat?token={web_token(app, who)}", size)
        page.context.grant_permissions(["microphone"])
        # greeting, and the invitation link's two pictures of 「添加到主屏幕」
        assert page.locator("#install").is_visible()
        assert page.evaluate(
            "[...document.querySelectorAll('#install img')].every((i) => i.naturalWidth > 0)"
        )
        assert words.text("web.install_step2") in page.inner_text("#install")
        scan(page, f"greeting-{tag}", counts)
        shot(page, f"greeting-{tag}", tmp_path)
        for state, text in [
            ("menu", "你好"),
            ("out-of-scope", "帮我订一张去北京的火车票"),
            ("readback", "我家水管漏水了"),
        ]:
            say(page, text)
            g = check_latest_answer(page)
            scan(page, f"{state}-{tag}", counts)
            shot(page, f"{state}-{tag}", tmp_path)
        assert not page.locator("#install").is_visible()  # out of the way once the resident talks
        assert [c["text"] for c in g["choices"]] == ["1 对", "2 不对"]
        assert "水管漏水" in g["answer"][0]["text"]
        # a pushed message with its own choices: shown once, as buttons, the start in view
        push(app, who, "水管漏水已经办好了，您满意吗？", (("1", "满意"), ("2", "不满意")))
        page.wait_for_selector(".msg.pushed")
        g = check_latest_answer(page)
        assert [c["text"] for c in g["choices"]] == ["1 满意", "2 不满意"]
        scan(page, f"pushed-{tag}", counts)
        shot(page, f"pushed-{tag}", tmp_path)
        # recording (a tap starts it; the fake microphone answers)
        page.tap("#mic")
        page.wait_for_selector("#mic.recording")
        scan(page, f"recording-{tag}", counts)
        shot(page, f"recording-{tag}", tmp_path)
        page.context.close()
    if UPDATE:
        (SHOTS / "axe-after.json").write_text(json.dumps(counts, indent=1, sort_keys=True) + "\n")


ZOOMED = [((195, 422), "zoom200-390x844"), ((180, 320), "zoom200-360x640"), ((844, 390), "landscape-844x390")]


def test_usable_at_200_percent_zoom_and_in_landscape(
    app: App, live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    """200 % page zoom of a phone is the same CSS layout as a viewport half as wide and high."""
    counts: dict[str, Any] = {}
    for size, name in ZOOMED:
        page = open_chat(browser, f"{live.url}/chat?token={web_token(app, 'demo:resident1')}", size)
        say(page, "你好")
        fit = page.evaluate(
            """() => {
              const inside = (id) => { const r = document.getElementById(id).getBoundingClientRect();
                return r.width > 0 && r.left >= 0 && r.right <= innerWidth + 1 && r.top >= 0 && r.bottom <= innerHeight + 1; };
              return { noSideScroll: document.documentElement.scrollWidth <= innerWidth + 1,
                       controls: ['read', 'mic', 'text', 'send'].every(inside), log: document.getElementById('log').clientHeight };
            }"""
        )
        assert fit["noSideScroll"] and fit["controls"], (name, fit)
        assert fit["log"] >= 100, (name, fit)  # room left for the conversation
        g = page.evaluate(LATEST)
        first = g["answer"][0]["box"]
        assert g["log"][0] - 1 <= first[0] < g["log"][1] - 30, (name, g)  # the answer starts in view
        last = page.locator("#choices button").last
        last.scroll_into_view_if_needed()
        box = last.bounding_box()
        assert (
            box is not None
            and box["y"] + box["height"] <= g["log"][1] + 1
            and box["x"] + box["width"] <= size[0] + 1
        )
        last.tap()  # and it works
        page.wait_for_function("() => document.querySelectorAll('#messages .msg.bot').length > 2")
        scan(page, name, counts)
        shot(page, name, tmp_path)
        page.context.close()


def test_voice_fallbacks_tap_to_talk_mic_denied_and_blocked_autoplay(
    app: App, live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    url = f"{live.url}/chat?token={web_token(app, 'demo:resident1')}"
    # recording refused: a plain message, and the typing path opens (digits work there too)
    page = open_chat(browser, url, PHONES[0])
    page.tap("#mic")
    page.wait_for_selector(".msg.note")
    assert page.inner_text("#status") == app.strings.text("channel.web_mic_denied")
    assert page.evaluate("document.activeElement.id") == "text"
    shot(page, "mic-denied-360x640", tmp_path)
    page.context.close()
    # tap to start, tap again to stop (WeChat's browser and old WebViews have no reliable long press)
    page = open_chat(browser, url, PHONES[0])
    page.context.grant_permissions(["microphone"])
    page.tap("#mic")
    page.wait_for_selector("#mic.recording")
    page.wait_for_timeout(600)  # a tap is not a hold: still recording after the finger is up
    assert page.locator("#mic.recording").count() == 1
    assert page.inner_text("#mic") == app.strings.text("web.tap_talk")
    page.tap("#mic")
    page.wait_for_selector("#mic:not(.recording)")
    page.wait_for_selector("#messages .msg.me")  # the recording is on its way
    page.context.close()
    # autoplay blocked (no tap on the page yet): a visible 「点这里听」 plays the answer
    page = open_chat(browser, url, PHONES[1], read_aloud=True, init=BLOCK_AUTOPLAY)
    push(app, "demo:resident1", app.strings.text("help.thanks"))  # a sentence the prompt library holds
    listen = page.locator("button.listen")
    listen.wait_for(timeout=20000)
    assert "点这里听" in listen.inner_text()
    assert app.strings.text("help.thanks") in page.inner_text("#messages")
    shot(page, "listen-390x844", tmp_path)
    listen.tap()
    page.wait_for_function("() => window.lianhuPlayed >= 1")
    page.context.close()


def test_offline_message_is_kept_and_sent_once_on_reconnect(
    app: App, live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    url = f"{live.url}/chat?token={web_token(app, 'demo:resident1')}"
    page = open_chat(browser, url, PHONES[1])
    context = page.context
    context.set_offline(True)
    page.fill("#text", "我家水管漏水了")
    page.press("#text", "Enter")
    unsent = page.locator(".msg.me.unsent")
    unsent.wait_for()
    assert app.strings.text("web.unsent") in unsent.inner_text()
    kept = json.loads(page.evaluate("localStorage.getItem('lianhu.outbox')"))
    assert [k["text"] for k in kept] == ["我家水管漏水了"]
    shot(page, "offline-390x844", tmp_path)
    push(app, "demo:resident1", "您反映的路灯不亮已经办结。")  # arrives while the phone is away
    page.wait_for_timeout(1500)  # a retry or two fail while offline
    context.set_offline(False)
    page.wait_for_function("() => !localStorage.getItem('lianhu.outbox')", timeout=20000)
    page.wait_for_selector(".msg.pushed", timeout=20000)  # missed while away, shown on return
    assert page.locator(".msg.me.unsent").count() == 0
    assert page.locator("#messages .msg.me").count() == 1
    assert page.inner_text("#messages").count("您要反映：水管漏水") == 1
    # kept on the phone: sent offline, page closed, opened again online → sent then, once
    context.set_offline(True)
    page.fill("#text", "1")
    page.press("#text", "Enter")
    page.locator(".msg.me.unsent").wait_for()
    later = json.loads(page.evaluate("localStorage.getItem('lianhu.outbox')"))
    page.close()
    context.set_offline(False)
    page = context.new_page()
    page.goto(f"{live.url}/chat")
    page.wait_for_function(
        "() => /单号 \\d+/.test(document.getElementById('messages').innerText)", timeout=20000
    )
    with app.db.session() as s:
        for item in [*kept, *later]:
            n = s.scalar(
                select(func.count())
                .select_from(ProcessedMessage)
                .where(ProcessedMessage.msg_id == item["id"])
            )
            assert n == 1, item
    context.close()


def test_web_app_manifest_is_served_and_valid(app: App, live: LiveServer, browser: Any) -> None:
    page_html = httpx.get(f"{live.url}/chat").text
    assert '<link rel="manifest" href="/chat/manifest.webmanifest">' in page_html
    resp = httpx.get(f"{live.url}/chat/manifest.webmanifest")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/manifest+json")
    manifest = resp.json()
    assert manifest["name"] == app.strings.text("channel.web_title") and manifest["display"] == "standalone"
    assert manifest["start_url"].startswith(manifest["scope"]) and "token" not in manifest["start_url"]
    big = [i for i in manifest["icons"] if i["sizes"] == "512x512" and i["type"] == "image/png"]
    png = httpx.get(live.url + big[0]["src"]).content
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 512
    # Chromium's own manifest parser: no errors, the large icon taken
    page = open_chat(browser, f"{live.url}/chat?token={web_token(app, 'demo:resident1')}", PHONES[1])
    cdp = page.context.new_cdp_session(page)
    parsed = cdp.send("Page.getAppManifest")
    assert parsed["errors"] == [], parsed["errors"]
    assert parsed["url"].endswith("/chat/manifest.webmanifest")
    # start_url opens the signed-in chat: the invitation link left the token on the phone
    page.goto(live.url + manifest["start_url"])
    page.wait_for_function("() => window.lianhuReady === true")
    say(page, "你好")
    page.context.close()


def test_page_runs_under_a_strict_content_security_policy(app: App, live: LiveServer, browser: Any) -> None:
    """No inline scripts or styles of the page's own (the one strings line is allowed by its hash)."""
    import base64
    import hashlib
    import re

    html = httpx.get(f"{live.url}/chat").text
    inline = re.search(r"<script>(.*?)</script>", html, re.S)
    allowed = (
        f" 'sha256-{base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()}'"
        if inline
        else ""
    )
    policy = f"default-src 'self'; script-src 'self'{allowed}; style-src 'self'; img-src 'self'; media-src 'self' blob: data:"
    context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True)
    context.add_init_script(
        "window.cspViolations = []; document.addEventListener('securitypolicyviolation',"
        " (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
        "localStorage.setItem('lianhu.read', 'off')"
    )

    def strict(route: Any) -> None:
        resp = route.fetch()
        route.fulfill(response=resp, headers={**resp.headers, "content-security-policy": policy})

    page = context.new_page()
    page.route(re.compile(r"/chat(\?.*)?$"), strict)
    page.goto(f"{live.url}/chat?token={web_token(app, 'demo:resident1')}")
    page.wait_for_function("() => window.lianhuReady === true")
    say(page, "你好")
    page.locator("#choices button").first.tap()
    page.wait_for_function("() => document.querySelectorAll('#messages .msg.bot').length > 3")
    page.tap("#mic")  # refused here: the note path
    page.wait_for_selector(".msg.note")
    assert page.evaluate("() => window.cspViolations") == []
    context.close()


@pytest.mark.parametrize(
    ("body", "choices"),
    [
        ("水管漏水已经办好了，您满意吗？", (("1", "满意"), ("2", "不满意"))),
        ("满意请按 1，不满意按 2。", (("1", "满意"), ("2", "不满意"))),
        ("已接单。", ()),
    ],
)
def test_pushed_messages_carry_their_sentence_without_the_numbered_choices(
    body: str, choices: tuple[tuple[str, str], ...]
) -> None:
    from bot.channels.web import _body

    assert _body(OutMessage(body, (), choices).text, [list(c) for c in choices]) == body
