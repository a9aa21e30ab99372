"""python -m nlu eval on a small slice of the training data: held-out, k-fold and probe figures."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from nlu.training import load_training
from tests.nlu.conftest import CATALOG, ROOT, TRAINING

PER_LABEL = 12
LABELS = ("report_water_pipe", "report_lighting", "greet", "thanks", "out_of_scope", "emergency")


def _write(path: Path, examples: dict[str, list[str]]) -> None:
    blocks = [
        {"intent": label, "examples": "".join(f"- {t}\n" for t in texts)} for label, texts in examples.items()
    ]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True), encoding="utf-8")


def test_eval_reports_held_out_kfold_and_unseen_probe_lines(tmp_path: Path) -> None:
    chosen: dict[str, list[str]] = defaultdict(list)
    for text, label in load_training(TRAINING).examples:
        if label in LABELS and len(chosen[label]) < PER_LABEL:
            chosen[label].append(text)
    training = tmp_path / "training"
    training.mkdir()
    _write(training / "slice.yml", chosen)
    probe = tmp_path / "probe.yml"
    repeated = chosen["greet"][0]
    _write(probe, {"greet": [repeated + "！"], "report_water_pipe": ["灶房的水管子漏得到处都是"]})
    cmd = [sys.executable, "-m", "nlu", "--catalog", str(CATALOG), "--training", str(training), "eval",
           "--folds", "2", "--probe", str(probe), "--json"]  # fmt: skip
    out = subprocess.run(
        cmd, capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=240, check=True
    )
    report = json.loads(out.stdout)
    assert report["examples"] == PER_LABEL * len(LABELS)
    held_out = report["held_out"]
    assert 0 < held_out["n"] < report["examples"] and report["train"] + held_out["n"] == report["examples"]
    assert set(held_out["per_intent"]) <= {"report", "greet", "thanks", "out_of_scope", "emergency"}
    assert 0.0 <= held_out["intent_accuracy"] <= 1.0
    assert report["kfold"]["folds"] == 2
    # the probe line that only adds punctuation to a training example is counted, not scored
    assert report["probe"]["in_training"] == 1 and report["probe"]["n"] == 1
    wrong = {w["text"] for w in held_out["misclassified"]}
    assert wrong <= set(sum(chosen.values(), []))
