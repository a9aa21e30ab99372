"""The server over real HTTP: health, token-bound chat, pushed messages, bad requests."""

from __future__ import annotations

import re
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from bot.server import create_server
from data.models import Ticket
from data.services.directory import find_identity, issue_token

NO = re.compile(r"单号 (\d{6})")


def token_for(app, ref: str) -> str:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        ctx = app.context(s)
        return issue_token(ctx, find_identity(ctx, ref), 30)


@pytest.fixture
def base_url(app):  # type: ignore[no-untyped-def]
    """A real uvicorn server on a free loopback port, with its outbox worker running."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(
        uvicorn.Config(create_server(app), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def post(base: str, token: str, text: str, msg_id: str) -> dict:  # type: ignore[type-arg]
    r = httpx.post(
        f"{base}/api/chat",
        json={"msg_id": msg_id, "text": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.slow
def test_conversation_over_http(app, base_url) -> None:  # type: ignore[no-untyped-def]
    assert httpx.get(f"{base_url}/healthz").json() == {"ok": True}
    token = token_for(app, "demo:resident1")
    first = post(base_url, token, "我家水管漏水了", "h1")
    assert "地址 3 栋 2 单元 502" in first["replies"][-1]["text"]
    assert [c["digit"] for c in first["replies"][-1]["choices"]] == ["1", "2"]
    created = post(base_url, token, "对", "h2")
    no = NO.search(created["replies"][0]["text"]).group(1)
    again = post(base_url, token, "对", "h2")
    assert again["duplicate"] is True and again["replies"] == created["replies"]
    status = post(base_url, token, "我报的事情咋样了", "h3")
    assert no in status["replies"][1]["text"]
    # the leader's web page receives the pushed task
    leader = token_for(app, "demo:leader1")
    deadline = time.time() + 10
    messages: list = []  # type: ignore[type-arg]
    while time.time() < deadline and not messages:
        messages = httpx.get(
            f"{base_url}/api/messages", params={"after": 0}, headers={"Authorization": f"Bearer {leader}"}
        ).json()["messages"]
        time.sleep(0.2)
    assert any(no in m["text"] for m in messages)
    # the leader works the task over HTTP; the resident hears each step and rates it
    assert "已接单" in post(base_url, leader, f"接单 {no}", "l1")["replies"][0]["text"]
    assert "已办结" in post(base_url, leader, f"办结 {no} 已经修好了", "l2")["replies"][0]["text"]
    deadline = time.time() + 10
    pushed: list = []  # type: ignore[type-arg]
    while time.time() < deadline and not any("满意请按 1" in m["text"] for m in pushed):
        pushed = httpx.get(f"{base_url}/api/messages", headers={"Authorization": f"Bearer {token}"}).json()[
            "messages"
        ]
        time.sleep(0.2)
    assert any("联户长已经接单" in m["text"] for m in pushed) and any(
        "满意请按 1" in m["text"] for m in pushed
    )
    assert "谢谢" in post(base_url, token, "满意", "h4")["replies"][0]["text"]
    with app.db.session() as s:
        assert s.scalar(select(Ticket.status).where(Ticket.public_no == no)) == "closed"
    last = messages[-1]["id"]
    assert (
        httpx.get(
            f"{base_url}/api/messages", params={"after": last}, headers={"Authorization": f"Bearer {leader}"}
        ).json()["messages"]
        == []
    )


@pytest.mark.slow
def test_bad_requests_are_refused_plainly(app, base_url) -> None:  # type: ignore[no-untyped-def]
    assert httpx.post(f"{base_url}/api/chat", json={"text": "hi"}).status_code == 401
    assert (
        httpx.post(
            f"{base_url}/api/chat", json={"text": "hi"}, headers={"Authorization": "Bearer forged"}
        ).status_code
        == 401
    )
    token = token_for(app, "demo:resident1")
    h = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"{base_url}/api/chat", content=b"{not json", headers=h).status_code == 400
    assert httpx.post(f"{base_url}/api/chat", json={"text": 5}, headers=h).status_code == 400
    assert (
        httpx.post(f"{base_url}/api/chat", json={"text": "x", "msg_id": "m" * 500}, headers=h).status_code
        == 400
    )
    assert httpx.get(f"{base_url}/api/messages", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.slow
def test_a_token_only_sees_its_own_messages(app, base_url) -> None:  # type: ignore[no-untyped-def]
    r1, r2 = token_for(app, "demo:resident1"), token_for(app, "demo:resident2")
    post(base_url, r1, "我家水管漏水了", "p1")
    no = NO.search(post(base_url, r1, "对", "p2")["replies"][0]["text"]).group(1)
    reply = post(base_url, r2, f"单号 {no} 咋样了", "p3")
    assert "没有找到" in reply["replies"][0]["text"]
    assert all(
        no not in m["text"]
        for m in httpx.get(f"{base_url}/api/messages", headers={"Authorization": f"Bearer {r2}"}).json()[
            "messages"
        ]
    )


def test_old_recordings_are_purged(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from bot.server import purge_recordings

    folder = app.settings.path(app.settings.paths.recordings) / "2026-01-01"
    folder.mkdir(parents=True)
    old, new = folder / "old.amr", folder / "new.ogg"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    ancient = time.time() - (app.settings.privacy.recording_retention_days + 1) * 86400
    os.utime(old, (ancient, ancient))
    assert purge_recordings(app) == 1
    assert not old.exists() and new.exists()
