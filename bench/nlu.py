"""NLU figures: training seconds, model load seconds (fresh process), parse latency p50/p99 in ms."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "data" / "catalog" / "demands.yaml"
TRAINING = ROOT / "nlu" / "training"
N_INPUTS = 3000

_LOAD = """
import sys, time
t = time.perf_counter()
from nlu import load_parser
p = load_parser(sys.argv[1], sys.argv[2], sys.argv[3])
p.parse("楼道灯坏了")
print(time.perf_counter() - t)
"""


def _inputs(examples: list[str], n: int, seed: int = 7) -> list[str]:
    """Training sentences plus mixed, long, traditional-looking and garbage variants."""
    rng = random.Random(seed)
    extra = ["", "1", "嗯", "🙂" * 10, "3栋2单元502的水管漏了，电话13812345678", "水管" * 200, "asdf qwer"]
    out = []
    for i in range(n):
        kind = i % 10
        if kind < 7:
            out.append(rng.choice(examples))
        elif kind == 7:
            out.append(rng.choice(examples) + "，" + rng.choice(examples))
        elif kind == 8:
            chars = list(rng.choice(examples))
            rng.shuffle(chars)
            out.append("".join(chars))  # scrambled: recogniser garbage
        else:
            out.append(rng.choice(extra))
    return out


def run() -> dict:
    """JSON-able NLU figures."""
    from nlu.bundle import build, save
    from nlu.parser import Parser
    from nlu.training import load_training

    started = time.perf_counter()
    bundle = build(CATALOG, TRAINING)
    train_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "nlu-model.pkl"
        save(bundle, cache)
        cmd = [sys.executable, "-c", _LOAD, str(CATALOG), str(TRAINING), str(cache)]
        load_seconds = float(subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout)
    parser = Parser(bundle)
    inputs = _inputs([text for text, _ in load_training(TRAINING).examples], N_INPUTS)
    for text in inputs[:200]:
        parser.parse(text)  # warm caches
    timings = []
    for text in inputs:
        t = time.perf_counter()
        parser.parse(text)
        timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    return {
        "nlu_train_seconds": round(train_seconds, 3),
        "nlu_model_load_seconds": round(load_seconds, 3),
        "nlu_parse_p50_ms": round(timings[len(timings) // 2], 3),
        "nlu_parse_p99_ms": round(timings[int(len(timings) * 0.99)], 3),
        "nlu_parse_max_ms": round(timings[-1], 3),
        "nlu_parse_inputs": len(timings),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
