"""The data files meet the issue's minimums."""

from __future__ import annotations

from collections import Counter

import yaml

from nlu.features import Featurizer
from nlu.resources import LEXICON_DIR, load_catalog, load_dialect, load_resources
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


def test_object_lexicon_names_catalog_items() -> None:
    raw = yaml.safe_load((LEXICON_DIR / "objects.yaml").read_text(encoding="utf-8"))
    assert set(raw["objects"]) <= set(load_catalog(CATALOG))
    assert raw["source"] and raw["problems"]


def test_object_features_pair_a_thing_with_a_problem() -> None:
    resources = load_resources(CATALOG)
    featurize = Featurizer({}, {}, {}, resources.objects, resources.problems)
    broken = featurize("楼下的长椅断了一条腿")
    assert broken["obj:public_facility"] and broken["kwp:public_facility"] and broken["problem:"]
    calm = featurize("花坛边上的长椅坐满了晒太阳的老年人")
    assert calm["obj:public_facility"] and not calm["kwp:public_facility"] and not calm["problem:"]
    # catalog keywords are objects too: 路灯 is a keyword of lighting in demands.yaml
    assert featurize("路灯不亮")["kwp:lighting"]
