"""The held-out split: about a fifth of every label, and an example stays on its side whatever is added."""

from __future__ import annotations

from nlu.evaluate import stratified_split
from nlu.training import load_training


def test_split_holds_out_about_a_fifth_of_every_label_and_never_overlaps() -> None:
    from collections import Counter
    from pathlib import Path

    examples = load_training(Path(__file__).resolve().parents[2] / "nlu" / "training").examples
    train, test = stratified_split(examples)
    assert set(train).isdisjoint(test) and len(train) + len(test) == len(examples)
    per_label, held = Counter(label for _, label in examples), Counter(label for _, label in test)
    for label, n in per_label.items():
        if n >= 40:
            assert 0.08 <= held[label] / n <= 0.35, (label, held[label], n)


def test_adding_examples_moves_no_existing_example_across_the_split() -> None:
    base = [(f"句子{i}", "greet" if i % 2 else "thanks") for i in range(400)]
    train, test = stratified_split(base)
    more_train, more_test = stratified_split(base + [(f"新句子{i}", "greet") for i in range(100)])
    assert set(test) <= set(more_test) and set(train) <= set(more_train)


def test_examples_that_differ_only_in_particles_stay_on_one_side() -> None:
    from nlu import DEFAULT_CATALOG
    from nlu.evaluate import memory_key

    key = memory_key(DEFAULT_CATALOG)
    assert key("我家水管漏水了嘛！") == key("我家水管漏水了")
    twins = [(f"第{i}栋水管漏水了", "report_water_leak") for i in range(200)]
    twins += [(f"第{i}栋水管漏水了嘛！", "report_water_leak") for i in range(200)]
    train, test = stratified_split(twins, key=key)
    held = {key(text) for text, _ in test}
    assert held and all(key(text) not in held for text, _ in train)
