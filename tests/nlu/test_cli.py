"""python -m nlu parse / train --if-stale, as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.nlu.conftest import CATALOG, ROOT, TRAINING


def _run(args: list[str], cache: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "nlu",
        "--catalog",
        str(CATALOG),
        "--training",
        str(TRAINING),
        "--cache",
        str(cache),
    ]
    return subprocess.run(cmd + args, input=stdin, capture_output=True, text=True, encoding="utf-8",
                          cwd=ROOT, timeout=240, check=True)  # fmt: skip


def test_parse_json_lines(model_cache: Path, parser: object) -> None:
    out = _run(["parse"], model_cache, "楼到的灯坏了\n你好\n").stdout.splitlines()
    first, second = (json.loads(line) for line in out)
    assert {
        "text",
        "normalized",
        "intent",
        "category",
        "item",
        "urgent",
        "confidence",
        "entities",
    } <= first.keys()
    assert (first["intent"], first["category"], first["item"]) == ("report", "facilities", "lighting")
    assert second["intent"] == "greet" and second["category"] is None


def test_train_if_stale(model_cache: Path, parser: object, tmp_path: Path) -> None:
    assert "up to date" in _run(["train", "--if-stale"], model_cache).stdout
    fresh = tmp_path / "fresh.pkl"
    assert "trained" in _run(["train", "--if-stale"], fresh).stdout
    assert fresh.exists()
