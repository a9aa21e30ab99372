"""Operator commands, run as an operator would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.voice.conftest import ROOT

pytestmark = pytest.mark.slow


def _voice(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voice", *args], cwd=ROOT, capture_output=True, text=True, timeout=240
    )


def test_say_then_transcribe(tmp_path: Path, whisper) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "reply.ogg"
    said = _voice("say", "请说一下地址，比如 3 栋 2 单元 502。", "-o", str(out))
    assert said.returncode == 0, said.stderr
    assert out.read_bytes().startswith(b"OggS")
    heard = _voice("transcribe", str(out), "--json")
    assert heard.returncode == 0, heard.stderr
    result = json.loads(heard.stdout)
    assert result["result"] == "Transcript" and "地址" in result["text"]


def test_setup_is_idempotent(whisper) -> None:  # type: ignore[no-untyped-def]
    done = _voice("setup")
    assert done.returncode == 0 and "present" in done.stdout


def test_transcribe_garbage_explains(tmp_path: Path, whisper) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.amr"
    bad.write_bytes(b"#!AMR\n" + b"\x00" * 10)
    done = _voice("transcribe", str(bad))
    assert done.returncode == 2 and "not recognized" in done.stdout
