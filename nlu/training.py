"""Training data in Rasa NLU YAML: intents with examples, synonyms, regexes and lookup tables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
REPORT_PREFIX = "report_"
REPORT_REQUEST = "report_request"  # a wish to report that names no item yet: (report, None)


@dataclass
class TrainingData:
    examples: list[tuple[str, str]] = field(default_factory=list)  # (text, rasa intent name)
    synonyms: dict[str, str] = field(default_factory=dict)  # surface -> canonical value
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)


def _lines(block: str | list | None) -> list[str]:
    """Rasa's '- example' block (a string) or a plain list, without entity annotations."""
    if block is None:
        return []
    raw = (
        block
        if isinstance(block, list)
        else [ln.strip()[1:] for ln in block.splitlines() if ln.strip().startswith("-")]
    )
    return [_ANNOTATION.sub(r"\1", str(x)).strip() for x in raw if str(x).strip()]


def training_files(training_dir: str | Path) -> list[Path]:
    """The YAML files under a directory (or the one file named)."""
    root = Path(training_dir)
    if root.is_file():
        return [root]
    return sorted([*root.rglob("*.yml"), *root.rglob("*.yaml")])


def load_training(training_dir: str | Path) -> TrainingData:
    """Every *.yml under training_dir (or that one file) merged into one TrainingData."""
    data = TrainingData()
    for path in training_files(training_dir):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []):
            examples = _lines(block.get("examples"))
            if "intent" in block:
                data.examples.extend((text, str(block["intent"])) for text in examples)
            elif "synonym" in block:
                data.synonyms.update({text: str(block["synonym"]) for text in examples})
            elif "regex" in block:
                data.regexes.setdefault(str(block["regex"]), []).extend(examples)
            elif "lookup" in block:
                data.lookups.setdefault(str(block["lookup"]), []).extend(examples)
    return data


def split_label(label: str, items: set[str] | dict) -> tuple[str, str | None]:
    """Rasa intent name -> (our intent, item): report_water_pipe -> (report, water_pipe)."""
    if label == REPORT_REQUEST:
        return "report", None
    if label.startswith(REPORT_PREFIX) and label[len(REPORT_PREFIX) :] in items:
        return "report", label[len(REPORT_PREFIX) :]
    return label, None
