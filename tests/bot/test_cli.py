"""The commands a deployer runs: serve --demo, token, chat (console)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def env_for(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "LIANHU_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PYTHONPATH": str(ROOT)}


def wait_healthy(base: str, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail("server did not answer /healthz")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_demo_then_token_then_chat(tmp_path: Path) -> None:
    port = free_port()
    env = env_for(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        out = subprocess.run(
            [sys.executable, "-m", "bot", "token", "demo:resident1"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        token = out.stdout.strip()
        assert "/chat?token=" in out.stderr
        h = {"Authorization": f"Bearer {token}"}
        first = httpx.post(
            f"{base}/api/chat", json={"msg_id": "1", "text": "我家水管漏水了"}, headers=h, timeout=30
        ).json()
        assert "3 栋 2 单元 502" in first["replies"][-1]["text"]
        second = httpx.post(
            f"{base}/api/chat", json={"msg_id": "2", "text": "要得"}, headers=h, timeout=30
        ).json()
        assert re.search(r"单号 \d{6}", second["replies"][0]["text"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert f"http://127.0.0.1:{port}/" in (server.stdout.read() if server.stdout else "")


@pytest.mark.slow
def test_console_chat(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--demo", "--as", "demo:resident1"],
        cwd=ROOT,
        env=env_for(tmp_path),
        input="我家水管漏水了\n对\n我报的事情咋样了\n/quit\n",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    assert "对吗" in out.stdout and re.search(r"单号 \d{6}", out.stdout) and "等待接单" in out.stdout


def test_unknown_identity_token_fails(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "token", "demo:nobody"],
        cwd=ROOT,
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "no such identity" in out.stderr


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def _wechat_post(base: str, openid: str, msg_id: int, text: str) -> httpx.Response:
    from tests.channels import wechat_payloads as wx

    xml = wx.text(openid, text, msg_id, create_time=int(time.time()))
    with httpx.Client(timeout=30) as client:  # a connection of its own: deliveries reach either worker
        return client.post(f"{base}/wechat", params=wx.query(nonce=f"n{msg_id}"), content=xml.encode())


@pytest.mark.slow
def test_serve_with_two_workers_one_ticket_per_request_and_a_dead_worker_restarts(tmp_path: Path) -> None:
    """WeChat re-posts a message it got no answer to: three deliveries of each message at once, spread
    over two server processes, make one ticket and the same answer."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import create_engine, text

    from tests.channels import wechat_payloads as wx
    from tests.channels.test_wechat import reply_text

    port = free_port()
    env = {
        **env_for(tmp_path),
        "LIANHU_WECHAT_TOKEN": wx.TOKEN,
        "LIANHU_WECHAT_API_BASE_URL": "http://127.0.0.1:9",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--demo", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if len(_children(server.pid)) == 2:
                break
            time.sleep(0.1)
        else:
            pytest.fail("two workers did not start")
        wait_healthy(base)
        subprocess.run(
            [sys.executable, "-m", "bot", "link", "wechat:oCli1", "demo:resident1"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        answers = []
        with ThreadPoolExecutor(3) as pool:
            for msg_id, words in ((501, "我家水管漏水了"), (502, "对")):
                deliveries = [pool.submit(_wechat_post, base, "oCli1", msg_id, words) for _ in range(3)]
                contents = {reply_text(d.result()) for d in deliveries}  # status 200, text reply
                assert len(contents) == 1, contents
                answers.append(contents.pop())
        assert re.search(r"单号 \d{6}", answers[1])
        engine = create_engine(env["LIANHU_DATABASE_URL"])
        with engine.connect() as c:
            assert c.execute(text("select count(*) from tickets")).scalar() == 1
        engine.dispose()

        first = _children(server.pid)
        os.kill(min(first), 9)
        for _ in range(100):
            now = _children(server.pid)
            if len(now) == 2 and now != first:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the dead worker was not started again")
        wait_healthy(base, 10)
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0
