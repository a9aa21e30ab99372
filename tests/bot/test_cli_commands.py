"""Every command `python -m bot --help` lists, run once as a deployer would, in a fresh database."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.cli import commands
from tests.bot.test_cli import ROOT, env_for, free_port, wait_healthy
from tests.voice.conftest import CLIPS
from voice.evaluation import Clip, write_table

REGISTRY_CSV = (
    "网格,联户单元,栋,单元,室,姓名,电话,出生年,独居,语音,角色\n"
    "G9,九单元,9,1,101,测试甲,13600009101,1950,是,否,\n"
    "G9,九单元,9,1,102,测试乙,13600009102,1980,否,否,联户长\n"
)


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


def listed_commands() -> set[str]:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    m = re.search(r"\{([a-z,\-]+)\}", out)
    assert m, out
    return set(m.group(1).split(","))


def serve_until_healthy(env: dict[str, str], *args: str) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json() == {"ok": True}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def phone_line_starts(env: dict[str, str]) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "phone", "--demo"],
        cwd=ROOT,
        env={**env, "LIANHU_PHONE_SIP_LISTEN": f"127.0.0.1:{port}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        end, seen = time.monotonic() + 120, []
        while time.monotonic() < end:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "Lianhu phone line: sip:lianhu@127.0.0.1" in line:
                return
        pytest.fail("the phone line did not start:\n" + "".join(seen))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_every_listed_command_runs(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    assert listed_commands() == {c.name for c in commands()}
    ran: set[str] = set()

    def check(name: str, *args: str, stdin: str = "", code: int = 0) -> str:
        done = run(env, name, *args, stdin=stdin)
        assert done.returncode == code, f"{name}: {done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        ran.add(name)
        return done.stdout + done.stderr

    check("migrate")
    out = check("chat", "--demo", "--as", "demo:resident1", stdin="你好\n/quit\n")
    assert "demo:resident1" in out and "请选择" in out
    assert re.search(r"chat\?token=[\w-]{20,}", check("token", "demo:resident1"))
    assert re.fullmatch(r"[A-Z0-9]{6}\s*", check("invite", "--phone", "13800000502"))
    assert "now acts as demo:leader1" in check("link", "wecom:zhangsan", "demo:leader1")
    assert re.search(r"/workbench/link/[\w-]{40,}", check("staff-link", "demo:staff1"))
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY_CSV, encoding="utf-8")
    check("import", str(registry))
    assert "|" in check("report", "--period", "week")
    assert re.match(r"lh311_[\w-]{30,}", check("api-key", "create", "街道12345平台", "--scope", "write"))
    assert "sent" in check("dispatch", "--drain")
    assert "0 problem(s)" in check("doctor")
    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copy(CLIPS / "paddleaudio_tests_zh.wav", clips / "running.wav")
    write_table(clips, [Clip("running.wav", "我认为跑步最重要的就是给我带来了身体健康", "out_of_scope")])
    assert '"clips": 1' in check("voice-eval", str(clips))
    archive = tmp_path / "backup.tar.gz"
    assert "backup written" in check("backup", str(archive))
    restored = run(
        {**env, "LIANHU_DATABASE_URL": f"sqlite:///{tmp_path / 'restored.db'}"}, "restore", str(archive)
    )
    assert restored.returncode == 0 and "restored the backup" in restored.stdout, restored.stderr
    ran.add("restore")
    assert "LIANHU_WECHAT_APP_ID" in check("wechat-menu", code=2)
    serve_until_healthy(env)
    ran.add("serve")
    phone_line_starts(env)
    ran.add("phone")
    assert ran == listed_commands()
