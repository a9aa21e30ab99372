"""Engine figures: text-turn latency and throughput through the whole engine on SQLite (no HTTP)."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.app import build_app, load_demo_if_empty
from core.messages import Inbound
from core.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ["我家水管漏水了", "对", "我报的事情咋样了", "楼道的灯坏了", "不对", "3", "你好"]


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 2)


def run(turns: int = 700) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            ROOT / "config.yaml", environ={"LIANHU_DATABASE_URL": f"sqlite:///{tmp}/bench.db"}
        )
        app = build_app(settings)
        load_demo_if_empty(app)
        latencies: list[float] = []
        start = time.perf_counter()
        for i in range(turns):
            who = ("resident1", "resident2")[i % 2]
            t0 = time.perf_counter()
            app.engine.handle(Inbound("demo", who, f"b{i}", SCRIPT[(i // 2) % len(SCRIPT)]))
            latencies.append(time.perf_counter() - t0)
        wall = time.perf_counter() - start
        app.db.dispose()
    return {
        "turns": turns,
        "turn_p50_ms": _pct(latencies, 0.5),
        "turn_p99_ms": _pct(latencies, 0.99),
        "turn_mean_ms": round(statistics.mean(latencies) * 1000, 2),
        "turns_per_s": round(turns / wall, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
