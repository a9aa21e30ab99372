"""Paths and cases of the NLU tests; the trained parser is the root conftest's session fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "data" / "catalog" / "demands.yaml"
TRAINING = ROOT / "nlu" / "training"
CASES = Path(__file__).resolve().parent / "cases"


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """The cache `make install` wrote and the root conftest's `parser` loads (its fingerprint covers
    every input, so a stale one is rebuilt)."""
    return ROOT / "var" / "cache" / "nlu-model.pkl"


def load_cases(name: str) -> list:
    return yaml.safe_load((CASES / name).read_text(encoding="utf-8"))
