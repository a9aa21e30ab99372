"""`make bench`: run every benchmark module's run() and print one JSON document."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

# Latency and throughput benches first: the loop bench leaves PostgreSQL checkpointing 100k rows.
MODULES = ("nlu", "engine", "voice", "channels", "phone", "notices", "workbench", "open311", "loop", "probe")


def machine() -> dict[str, Any]:
    """What the figures were measured on. Recognition time depends on the CPU: one greedy phone decode
    took 0.37 s on one 2-core VM of this project and 0.69 s on another (AMD EPYC, AVX2 only)."""
    model, flags = "", set[str]()
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name" and not model:
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    isa = next((name for name in ("avx512f", "avx2", "avx") if name in flags), "other")
    return {"cpu": model, "cores": os.cpu_count(), "vector_isa": isa, "avx512_vnni": "avx512_vnni" in flags}


def main(argv: list[str]) -> int:
    wanted = argv or list(MODULES)
    results: dict[str, Any] = {"machine": machine()}
    for name in wanted:
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError:
            results[name] = {"skipped": "module not present"}
            continue
        try:
            results[name] = module.run()
        except Exception as err:  # noqa: BLE001 - report and go on with the other benches
            traceback.print_exc(file=sys.stderr)
            results[name] = {"error": f"{type(err).__name__}: {err}"}
        results[name]["bench_seconds"] = round(time.perf_counter() - t0, 1)
        print(f"bench {name} done", file=sys.stderr, flush=True)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
