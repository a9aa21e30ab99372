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
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not answer /healthz")
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
