"""Findings on the web API, through the real server (uvicorn on loopback): bodies refused before they
are read, malformed input answered 4xx (never 500), limits, headers, the token out of URLs."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.app import App
from data.models import AuditLog
from tests.channels.conftest import LiveServer, web_token


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only here: these findings are about the HTTP edge, not the database (WeChat's replay
    guard and the database-counted limits run on both)."""
    return f"sqlite:///{tmp_path / 'lianhu.db'}"


def limits(app: App, **changes: object) -> None:
    app.settings = app.settings.with_overrides(limits=dataclasses.replace(app.settings.limits, **changes))
    from bot.guard import Guards

    app.guards = Guards(app.settings.limits)


@pytest.fixture
def server(app: App) -> Iterator[LiveServer]:
    limits(app, header_timeout_seconds=1.0, body_idle_seconds=1.0, chat_turns_per_minute=5)
    srv = LiveServer(app, workers=False)
    yield srv
    srv.stop()


@pytest.fixture
def auth(app: App) -> dict[str, str]:
    return {"Authorization": f"Bearer {web_token(app, 'demo:resident1')}"}


def raw(server: LiveServer, head: str, body: bytes = b"", wait: float = 3.0) -> bytes:
    """Send raw bytes; return what the server answers before closing or `wait` seconds."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
                if b"\r\n\r\n" in out and len(out) > 200:
                    break
        except TimeoutError:
            pass
    return out


def test_50_mb_voice_with_a_bad_token_is_refused_before_the_body(server: LiveServer) -> None:
    t0 = time.monotonic()
    head = (
        "POST /api/voice HTTP/1.1\nHost: x\nAuthorization: Bearer nope\nContent-Type: audio/webm\n"
        "Content-Length: 52428800\n"
    )
    answer = raw(server, head)  # no body is sent at all: the answer must not wait for it
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert time.monotonic() - t0 < 2


def test_chunked_body_past_the_limit_is_cut_off(server: LiveServer, auth: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 1024

    r = httpx.post(f"{server.url}/api/chat", content=chunks(), headers=auth)
    assert r.status_code == 413


def test_20_mb_json_with_a_bad_token_is_refused_unread(server: LiveServer) -> None:
    r = httpx.post(f"{server.url}/api/chat", content=b"[" * 1000, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401  # the token is checked before the body is even read
    head = "POST /api/chat HTTP/1.1\nHost: x\nAuthorization: Bearer nope\nContent-Length: 20971520\n"
    assert raw(server, head).startswith(b"HTTP/1.1 413")


def test_a_body_that_stops_arriving_is_refused(server: LiveServer, auth: dict[str, str]) -> None:
    head = f"POST /api/chat HTTP/1.1\nHost: x\nAuthorization: {auth['Authorization']}\nContent-Length: 100\n"
    assert raw(server, head, b'{"text": "', wait=4).startswith(b"HTTP/1.1 408")


MALFORMED = [
    ("POST", "/api/chat", {"content": b"[" * 100_000 + b"]" * 100_000}),
    ("POST", "/api/chat", {"content": b"\xff\xfe not json"}),
    ("POST", "/api/chat", {"json": ["text"]}),
    ("POST", "/api/chat", {"json": {"text": 5}}),
    ("POST", "/api/chat", {"json": {"text": "hi", "msg_id": {"a": 1}}}),
    ("GET", "/api/messages?after=1e23", {}),
    ("GET", "/api/messages?after=99999999999999999999999", {}),
    ("GET", "/api/messages?after=-1", {}),
    (
        "GET",
        "/api/messages?after=%C2%B2",
        {},
    ),  # "²": str.isdigit() says yes, int() says no (fuzzing found it)
    ("GET", "/api/messages?limit=abc", {}),
    ("POST", "/api/speak", {"content": b"{not json"}),
    ("POST", "/api/speak", {"json": {"messages": [{"text": "a", "parts": [[1, 2, 3]]}]}}),
    ("POST", "/api/speak", {"json": {"messages": [{"text": "a", "parts": "xx"}]}}),
    ("POST", "/api/speak", {"json": {"messages": [{"text": "a", "body": 7}]}}),
    ("POST", "/api/speak", {"json": {"messages": [{"text": "读" * 2000}] * 3}}),
    ("GET", "/api/events", {"headers": {"Last-Event-ID": "abc"}}),
    ("POST", "/api/voice", {"content": b"RIFF", "headers": {"Content-Type": "audio/x-unknown"}}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), MALFORMED, ids=[f"{m} {p}" for m, p, _ in MALFORMED])
def test_malformed_input_is_a_plain_4xx(
    server: LiveServer,
    auth: dict[str, str],
    method: str,
    path: str,
    kwargs: dict,
    caplog: pytest.LogCaptureFixture,
) -> None:  # type: ignore[type-arg]
    headers = {**auth, **kwargs.pop("headers", {})}
    r = httpx.request(method, server.url + path, headers=headers, timeout=10, **kwargs)
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])
    assert "Traceback" not in caplog.text


def test_speaking_2000_characters_is_refused_before_any_synthesis(
    server: LiveServer, auth: dict[str, str]
) -> None:
    r = httpx.post(f"{server.url}/api/speak", json={"messages": [{"text": "读" * 2000}]}, headers=auth)
    assert r.status_code == 413 and "600" in r.text


def test_chat_turns_past_the_limit_get_a_plain_reply_and_one_audit_entry(
    server: LiveServer, app: App, auth: dict[str, str]
) -> None:
    texts = []
    for n in range(8):
        r = httpx.post(f"{server.url}/api/chat", json={"msg_id": f"f{n}", "text": "你好"}, headers=auth)
        assert r.status_code == 200
        texts.append(r.json()["replies"][0]["text"])
    assert texts[4] != texts[5] and "太快" in texts[5] and "太快" in texts[7]
    with app.db.session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "rate_limited")).all()
        assert [r.detail for r in rows] == ["chat turns"] and rows[0].identity_id is not None


def test_wrong_tokens_from_one_address_are_limited_and_audited(server: LiveServer, app: App) -> None:
    codes = [
        httpx.get(f"{server.url}/api/messages", headers={"Authorization": f"Bearer wrong{n}"}).status_code
        for n in range(25)
    ]
    assert codes[:20] == [401] * 20 and codes[20:] == [429] * 5
    with app.db.session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "rate_limited")).all()
        assert len(rows) == 1 and rows[0].detail.startswith("failed tokens from source ")
        assert "127.0.0.1" not in rows[0].detail


def test_page_headers_csp_without_inline_script(server: LiveServer) -> None:
    r = httpx.get(f"{server.url}/chat")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.S)
    for attrs, _body in scripts:
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
    data = next(body for attrs, body in scripts if "application/json" in attrs)
    assert json.loads(data)["web_title"]


@pytest.mark.parametrize("path", ["/healthz", "/api/messages", "/static/chat/chat.js", "/wechat"])
def test_every_answer_has_nosniff_and_no_framing(server: LiveServer, path: str) -> None:
    r = httpx.get(server.url + path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_schema_and_docs_are_off_unless_configured(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/openapi.json").status_code == 404
    assert httpx.get(f"{server.url}/docs").status_code == 404


def test_event_stream_takes_no_token_from_the_url(server: LiveServer, app: App, auth: dict[str, str]) -> None:
    token = auth["Authorization"].split()[1]
    assert httpx.get(f"{server.url}/api/events", params={"token": token}).status_code == 401
    r = httpx.post(f"{server.url}/api/events/session", headers=auth)
    assert r.status_code == 204
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/api/events" in cookie and "SameSite=strict" in cookie
    with httpx.Client(base_url=server.url, cookies=r.cookies) as c, c.stream("GET", "/api/events") as stream:
        assert stream.status_code == 200
        assert next(stream.iter_lines()).startswith("retry:")


def test_silent_and_slow_clients_are_dropped_and_health_stays_fast(server: LiveServer) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    slow = [socket.create_connection((host, int(port))) for _ in range(100)]
    for n, sock in enumerate(slow):
        if n % 2:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers begun, never finished
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        times.append(time.perf_counter() - t0)
    assert max(times) < 1.0
    time.sleep(1.6)  # header timeout 1 s in this test
    closed = 0
    for sock in slow:
        sock.settimeout(2)
        try:
            closed += sock.recv(1) == b""
        except OSError:
            closed += 1
        sock.close()
    assert closed == 100


def test_connections_past_the_limit_are_answered_503(app: App) -> None:
    limits(app, max_connections=5)
    srv = LiveServer(app, workers=False)
    try:
        host, port = srv.url.removeprefix("http://").split(":")
        held = [socket.create_connection((host, int(port))) for _ in range(6)]
        assert httpx.get(f"{srv.url}/healthz").status_code == 503
        for sock in held:
            sock.close()
        time.sleep(0.2)
        assert httpx.get(f"{srv.url}/healthz").status_code == 200
    finally:
        srv.stop()


def test_clients_that_hang_up_leave_no_traceback(
    server: LiveServer, auth: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    """A phone losing signal mid-request: a body cut short, a stream dropped. Nothing is logged as a crash
    (uvicorn's own error log writes to stderr, so stderr is what is read) and the server goes on."""
    host, port = server.url.removeprefix("http://").split(":")
    for head, body in (
        (
            f"POST /api/chat HTTP/1.1\nHost: x\nAuthorization: {auth['Authorization']}\nContent-Length: 400\n",
            b'{"te',
        ),
        (f"GET /api/events HTTP/1.1\nHost: x\nAuthorization: {auth['Authorization']}\n", b""),
        ("POST /api/voice HTTP/1.1\nHost: x\nContent-Type: audio/webm\nContent-Length: 90000\n", b"\x1a\x45"),
    ):
        with socket.create_connection((host, int(port)), timeout=3) as sock:
            sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
            time.sleep(0.3)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    time.sleep(1.0)
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception in ASGI" not in err, err[-2000:]
