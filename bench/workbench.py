"""Workbench figures over 100,000 tickets, through the real HTTP server (uvicorn) as a signed-in
community staff member: the board's first page and a filtered page (p50 / p95 of 40 requests each),
and the figures page (median of 5). SQLite and PostgreSQL. `python -m bench.workbench` prints JSON."""

from __future__ import annotations

import json
import socket
import statistics
import tempfile
import threading
import time
from datetime import datetime
from typing import Any

import httpx

from bench.loop import PG_URL, ROOT, _bulk_tickets, _ctx, _fresh, ensure_database
from core.settings import load_settings
from data.clock import ManualClock
from data.demo import load_demo

BOARD_RUNS = 40
FIGURES_RUNS = 5
FILTERED = "/workbench/?status=active&category=facilities&overdue=1&q=%E6%BC%8F%E6%B0%B4&page=2"


class _NoParser:
    def parse(self, text: str) -> Any:
        raise RuntimeError("the workbench bench does not understand text")


def _serve(url: str) -> tuple[Any, str, str]:
    """The app on a fresh uvicorn server; returns (server, base url, a staff session cookie)."""
    import uvicorn

    from bot.app import build_app
    from bot.server import create_server
    from data.services.directory import find_identity
    from data.services.staff_auth import open_session

    settings = load_settings(ROOT / "config.yaml", environ={"LIANHU_DATABASE_URL": url})
    app = build_app(settings, clock=ManualClock(datetime(2026, 11, 30, 4)), parser=_NoParser(), migrate=False)
    with app.db.session() as s:
        ctx = app.context(s)
        ident = find_identity(ctx, "demo:staff1")
        assert ident is not None and ident.staff_id is not None
        token = open_session(ctx, settings.workbench, ident.staff_id, "bench")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(create_server(app, workers=False), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    server.app_db = app.db  # type: ignore[attr-defined]
    return server, base, token


def _times(client: httpx.Client, path: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return out


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def measure(name: str, url: str, n: int) -> dict[str, Any]:
    db = _fresh(url)
    with db.session() as s:
        load_demo(_ctx(db, s))
    _bulk_tickets(db, n)
    db.dispose()
    server, base, token = _serve(url)
    out: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=base, cookies={"lianhu_wb": token}, timeout=30) as client:
            _times(client, "/workbench/", 3)  # warm up: templates compiled, statements cached
            first = _times(client, "/workbench/", BOARD_RUNS)
            filtered = _times(client, FILTERED, BOARD_RUNS)
            figures = _times(client, "/workbench/figures", FIGURES_RUNS)
        out[f"{name}_board_first_page_ms_p50_p95"] = [_p(first, 0.5), _p(first, 0.95)]
        out[f"{name}_board_filtered_page_ms_p50_p95"] = [_p(filtered, 0.5), _p(filtered, 0.95)]
        out[f"{name}_figures_page_ms_median_max"] = [
            round(statistics.median(figures), 1),
            round(max(figures), 1),
        ]
    finally:
        server.should_exit = True
        time.sleep(0.5)
        server.app_db.dispose()
    return out


def run(n: int = 100_000) -> dict[str, Any]:
    ensure_database(PG_URL)
    results: dict[str, Any] = {"tickets": n, "targets": "board p95 <= 300 ms; figures <= 2000 ms"}
    with tempfile.TemporaryDirectory() as tmp:
        results.update(measure("sqlite", f"sqlite:///{tmp}/bench.db", n))
    results.update(measure("postgres", PG_URL, n))
    return results


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
