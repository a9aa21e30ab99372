"""Command line: python -m nlu parse | train [--if-stale] | eval [--ood | --set FILE | --leave-writer-out]."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from nlu.bundle import build, fingerprint, load_cached, save
from nlu.parser import load_parser
from nlu.types import Parse


def parse_to_json(parse: Parse) -> dict[str, Any]:
    """The CLI's JSON shape: text, normalized, intent, category, item, urgent, confidence, entities."""
    entities = {k: v for k, v in dataclasses.asdict(parse.entities).items() if v is not None}
    return {
        "text": parse.text,
        "normalized": parse.normalized,
        "intent": parse.intent,
        "category": parse.category,
        "item": parse.item,
        "urgent": parse.urgent,
        "confidence": parse.confidence,
        "entities": entities,
        "alternatives": [dataclasses.asdict(a) for a in parse.alternatives],
        "risk": parse.risk,
        "risk_cues": list(parse.risk_cues),
        "complaint": parse.complaint,
    }


def _cmd_parse(args: argparse.Namespace) -> int:
    parser = load_parser(args.catalog, args.training, args.cache)
    stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
    lines = (raw.decode("utf-8", "replace") for raw in stdin) if stdin else sys.stdin
    for line in lines:
        text = line.rstrip("\r\n")
        sys.stdout.write(json.dumps(parse_to_json(parser.parse(text)), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    if args.if_stale and args.cache and load_cached(args.cache, fingerprint(args.catalog, args.training)):
        print(f"nlu: model up to date ({args.cache})")
        return 0
    started = time.perf_counter()
    bundle = build(args.catalog, args.training)
    if args.cache:
        save(bundle, args.cache)
    n = len(bundle.model.labels)
    print(f"nlu: trained {n} labels in {time.perf_counter() - started:.1f}s -> {args.cache}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from nlu import evaluate

    if args.leave_writer_out:
        from nlu import safety_eval

        report = safety_eval.leave_writer_out(
            load_parser(args.catalog, args.training, args.cache), args.training
        )
        if not args.json:
            print(safety_eval.format_writers(report))
            return 0
    elif args.set:
        from nlu import safety_eval

        report = safety_eval.run(load_parser(args.catalog, args.training, args.cache), Path(args.set))
        if not args.json:
            print(safety_eval.format_report(report, verbose=args.verbose))
            return 0
    elif args.ood:
        from nlu import ood

        report = ood.run(load_parser(args.catalog, args.training, args.cache), Path(args.evaldata))
    else:
        report = evaluate.run(args.catalog, args.training, folds=args.folds, probe=Path(args.probe))
    text = json.dumps(report, ensure_ascii=False, indent=1) if args.json else evaluate.format_report(report)
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlu", description=__doc__)
    ap.add_argument("--catalog", default="data/catalog/demands.yaml")
    ap.add_argument("--training", default="nlu/training")
    ap.add_argument("--cache", default="var/cache/nlu-model.pkl")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("parse", help="stdin lines -> one JSON object per line").set_defaults(func=_cmd_parse)
    train = sub.add_parser("train", help="train and cache the model")
    train.add_argument(
        "--if-stale", action="store_true", help="only when the cache is missing or out of date"
    )
    train.set_defaults(func=_cmd_train)
    ev = sub.add_parser("eval", help="held-out split + k-fold report, or --ood figures")
    ev.add_argument("--folds", type=int, default=5)
    ev.add_argument("--probe", default="tests/nlu/cases/probe.yml", help="extra unseen sentences, if present")
    ev.add_argument("--ood", action="store_true", help="out-of-distribution figures from --evaldata")
    ev.add_argument("--evaldata", default="../shared/evaldata")
    ev.add_argument(
        "--set", help="a labelled YAML set: emergency recall, false alarms, confusion per outcome"
    )
    ev.add_argument("--verbose", action="store_true", help="with --set: list the misses and false alarms")
    ev.add_argument(
        "--leave-writer-out",
        action="store_true",
        help="each tuning set scored with the danger and live models fitted without it",
    )
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=_cmd_eval)
    args = ap.parse_args(argv)
    return int(args.func(args))
