"""Evaluation: a held-out split (by hash, stable as data grows) never used in training, k-fold cross-validation, a probe set."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from nlu.bundle import build, core
from nlu.normalize import Normalizer
from nlu.parser import Parser
from nlu.resources import LEXICON_DIR, load_catalog, load_resources
from nlu.training import load_training, split_label

SEED = 13
HELD_OUT = 0.2


def stratified_split(  # noqa: ANN201
    examples: Sequence[tuple[str, str]],
    fraction: float = HELD_OUT,
    seed: int = SEED,
    key: Callable[[str], str] | None = None,
):
    """(train, test): each example goes to test by a hash of its group, so about `fraction` of every
    label is held out and the split stays put when examples are added or removed (a split redrawn on
    every data change moved the figure by ±1 point from one commit to the next).

    The group is `key(text)` (the evaluation passes the exact-match memory's key, so examples that
    differ only in particles or punctuation land on the same side and the memory cannot answer a
    held-out line from its twin in training), else label and text."""
    train: list[tuple[str, str]] = []
    test: list[tuple[str, str]] = []
    for text, label in examples:
        group = key(text) if key is not None else f"{label}\t{text}"
        digest = hashlib.sha256(f"{seed}\t{group}".encode()).digest()
        (test if int.from_bytes(digest[:8], "big") < fraction * 2**64 else train).append((text, label))
    return train, test


def memory_key(catalog: str | Path) -> Callable[[str], str]:
    """The exact-match memory's key of a raw example: its normalized text without particles
    (remembered per text: the split, the folds and the probe all ask for the same ones)."""
    resources = load_resources(catalog, LEXICON_DIR)
    normalizer = Normalizer(resources.dialect, resources.domain_words)

    @cache
    def key(text: str) -> str:
        return core(normalizer(text)) or text

    return key


def _prf(gold: Sequence[str | None], pred: Sequence[str | None]) -> dict[str, dict[str, float]]:
    out = {}
    for name in sorted({g for g in gold if g} | {p for p in pred if p}):
        tp = sum(g == p == name for g, p in zip(gold, pred, strict=True))
        n_pred, n_gold = pred.count(name), gold.count(name)
        out[name] = {
            "precision": round(tp / n_pred, 4) if n_pred else 0.0,
            "recall": round(tp / n_gold, 4) if n_gold else 0.0,
            "support": n_gold,
        }
    return out


def score(parser: Parser, examples: Sequence[tuple[str, str]], items: dict) -> dict[str, Any]:
    """Accuracy figures of one parser on labelled examples (Rasa intent names)."""
    gold_intent, gold_item, pred_intent, pred_item, urgent, wrong = [], [], [], [], [], []
    for text, label in examples:
        intent, item = split_label(label, items)
        parse = parser.parse(text)
        gold_intent.append(intent)
        gold_item.append(item)
        pred_intent.append(parse.intent)
        pred_item.append(parse.item)
        urgent.append(parse.urgent)
        if parse.intent != intent or (item and parse.item != item):
            wrong.append({"text": text, "gold": label, "intent": parse.intent, "item": parse.item,
                          "confidence": parse.confidence})  # fmt: skip
    cat = {code: it.category for code, it in items.items()}
    reports = [i for i, item in enumerate(gold_item) if item]
    emergencies = [i for i, g in enumerate(gold_intent) if g == "emergency"]
    ordinary = [i for i, g in enumerate(gold_intent) if g != "emergency"]
    n = len(examples)
    return {
        "n": n,
        "intent_accuracy": round(sum(g == p for g, p in zip(gold_intent, pred_intent, strict=True)) / n, 4),
        "category_accuracy": round(
            sum(cat[gold_item[i]] == cat.get(pred_item[i] or "") for i in reports) / max(1, len(reports)), 4
        ),
        "item_accuracy": round(sum(gold_item[i] == pred_item[i] for i in reports) / max(1, len(reports)), 4),
        "emergency_recall": round(sum(urgent[i] for i in emergencies) / max(1, len(emergencies)), 4),
        "false_alarm_rate": round(sum(urgent[i] for i in ordinary) / max(1, len(ordinary)), 4),
        "per_intent": _prf(gold_intent, pred_intent),
        "per_category": _prf([cat.get(i or "") for i in gold_item], [cat.get(i or "") for i in pred_item]),
        "confusion": {
            f"{g} -> {p}": c
            for (g, p), c in Counter(zip(gold_intent, pred_intent, strict=True)).most_common()
            if g != p
        },
        "misclassified": wrong,
    }


def kfold(
    catalog: str | Path,
    training: str | Path,
    examples: list[tuple[str, str]],
    folds: int,
    items: dict,
    group: Callable[[str], str] | None = None,
) -> dict:
    """Mean headline figures over stratified k folds; examples with the same memory key stay in one fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    keys = ("intent_accuracy", "category_accuracy", "item_accuracy", "emergency_recall", "false_alarm_rate")
    sums = dict.fromkeys(keys, 0.0)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    group = group or memory_key(catalog)
    labels, groups = [label for _, label in examples], [group(text) for text, _ in examples]
    for train_idx, test_idx in splitter.split(examples, labels, groups):
        parser = Parser(build(catalog, training, [examples[i] for i in train_idx], semantic=False))
        result = score(parser, [examples[i] for i in test_idx], items)
        for key in keys:
            sums[key] += result[key]
    return {"folds": folds, **{key: round(value / folds, 4) for key, value in sums.items()}}


def run(
    catalog: str | Path, training: str | Path, folds: int = 5, probe: Path | None = None
) -> dict[str, Any]:
    """The full report: held-out, k-fold, and the probe set (a file of sentences written apart from the
    training data, never trained on) when present."""
    items = load_catalog(catalog)
    examples = load_training(training).examples
    key = memory_key(catalog)
    train, test = stratified_split(examples, key=key)
    report: dict[str, Any] = {"examples": len(examples), "train": len(train)}
    report["held_out"] = score(Parser(build(catalog, training, train, semantic=False)), test, items)
    if folds > 1:
        report["kfold"] = kfold(catalog, training, examples, folds, items, key)
    if probe and probe.exists():
        # A probe line that matches a training example once particles are stripped would be answered from
        # memory: count those and score only the rest.
        trained = {key(text) for text, _ in examples}
        lines = load_training(probe).examples
        unseen = [(text, label) for text, label in lines if key(text) not in trained]
        report["probe"] = score(Parser(build(catalog, training, semantic=False)), unseen, items)
        report["probe"]["in_training"] = len(lines) - len(unseen)
    return report


def _headline(name: str, r: dict) -> str:
    return (f"{name:10} n={r.get('n', '-'):>5}  intent {r['intent_accuracy']:.3f}  category {r['category_accuracy']:.3f}  "
            f"item {r['item_accuracy']:.3f}  emergency recall {r['emergency_recall']:.3f}  false alarms {r['false_alarm_rate']:.3f}")  # fmt: skip


def format_report(report: dict[str, Any]) -> str:
    """Human-readable summary (use --json for everything)."""
    if "held_out" not in report:
        return "\n".join(f"{k}: {v}" for k, v in report.items())
    lines = [f"examples {report['examples']} (train split {report['train']})"]
    lines += [_headline(k, report[k]) for k in ("held_out", "kfold", "probe") if k in report]
    if "probe" in report:
        lines.append(
            f"probe lines that repeat a training example (not scored): {report['probe']['in_training']}"
        )
    for name in ("held_out", "probe"):
        if name not in report:
            continue
        r = report[name]
        lines.append(f"\n[{name}] per intent (precision / recall / support)")
        lines += [
            f"  {k:14} {v['precision']:.3f} {v['recall']:.3f} {v['support']}"
            for k, v in r["per_intent"].items()
        ]
        lines.append(f"[{name}] per category")
        lines += [
            f"  {k:14} {v['precision']:.3f} {v['recall']:.3f} {v['support']}"
            for k, v in r["per_category"].items()
        ]
        lines.append(f"[{name}] confusion (gold -> predicted: count)")
        lines += [f"  {k}: {v}" for k, v in r["confusion"].items()]
        lines.append(f"[{name}] misclassified")
        lines += [
            f"  {w['text']}  gold={w['gold']} got={w['intent']}/{w['item']} ({w['confidence']})"
            for w in r["misclassified"]
        ]
    return "\n".join(lines)
