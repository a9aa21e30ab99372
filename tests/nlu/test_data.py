"""The data files meet the issue's minimums."""

from __future__ import annotations

from collections import Counter

from nlu.resources import load_catalog, load_dialect
from nlu.training import load_training
from nlu.types import INTENTS
from tests.nlu.conftest import CATALOG, TRAINING


def test_lexicon_size_and_sources() -> None:
    entries = load_dialect()
    assert len(entries) >= 300
    assert all(e.source for e in entries)


def test_training_counts() -> None:
    counts = Counter(label for _, label in load_training(TRAINING).examples)
    for code in load_catalog(CATALOG):
        assert counts[f"report_{code}"] >= 25, code
    for intent in INTENTS:
        if intent != "report":
            assert counts[intent] >= 40, intent


def test_no_repeated_examples() -> None:
    """An example written twice (in any file, under any label) would sit in both train and held-out."""
    counts = Counter(text for text, _ in load_training(TRAINING).examples)
    assert [text for text, n in counts.items() if n > 1] == []
