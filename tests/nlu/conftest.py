"""One trained parser per test session (training takes seconds, parsing microseconds)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlu import Parser, load_parser

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "data" / "catalog" / "demands.yaml"
TRAINING = ROOT / "nlu" / "training"
CASES = Path(__file__).resolve().parent / "cases"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cache `make install` wrote (its fingerprint covers every input, so a stale one is rebuilt)."""
    return ROOT / "var" / "cache" / "nlu-model.pkl"


@pytest.fixture(scope="session")
def parser(model_cache: Path) -> Parser:
    return load_parser(CATALOG, TRAINING, model_cache)


def load_cases(name: str) -> list:
    return yaml.safe_load((CASES / name).read_text(encoding="utf-8"))
