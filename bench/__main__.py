"""`make bench`: run every benchmark module's run() and print one JSON document."""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from typing import Any

# Latency and throughput benches first: the loop bench leaves PostgreSQL checkpointing 100k rows.
MODULES = ("nlu", "engine", "voice", "channels", "phone", "notices", "workbench", "open311", "loop", "probe")


def main(argv: list[str]) -> int:
    wanted = argv or list(MODULES)
    results: dict[str, Any] = {}
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
