"""Open311 requests.json over 100,000 tickets (with their status events), through the real HTTP
server (uvicorn): the first page (anonymous, public view) and a filtered page (two service codes,
status, a date range, page 2, with an integrator's key: its rate count is written on every call);
p50 / p95 of 40 requests each. SQLite and PostgreSQL. `python -m bench.open311` prints JSON."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import insert, text

from bench.loop import PG_URL, ROOT, _bulk_tickets, _ctx, _fresh, ensure_database
from bench.workbench import _NoParser, _p
from core.settings import load_settings
from data.clock import ManualClock
from data.db import Database
from data.demo import load_demo
from data.models import TicketEvent

RUNS = 40
FIRST = "/open311/v2/requests.json"
FILTERED = {
    "service_code": "water_pipe,lighting",
    "status": "open",
    "start_date": "2026-11-10T00:00:00+08:00",
    "end_date": "2026-11-25T00:00:00+08:00",
    "page": "2",
}


def _events(db: Database) -> int:
    """A created event for every ticket and one per later step, as the services write them."""
    with db.session() as s:
        rows = s.execute(text("select id, status, created_at, accepted_at, resolved_at from tickets")).all()
        events: list[dict[str, Any]] = []
        for tid, status, created, accepted, _resolved in rows:
            created = created if isinstance(created, datetime) else datetime.fromisoformat(created)
            steps = [("created", None, "submitted", created, "")]
            if accepted:
                steps.append(("accepted", "submitted", "accepted", created + timedelta(hours=1), ""))
            if status == "closed":
                steps.append(("resolved", "accepted", "resolved", created + timedelta(hours=2), "已经修好了"))
            for kind, before, after, at, note in steps:
                events.append(
                    {
                        "ticket_id": tid,
                        "at": at,
                        "kind": kind,
                        "actor_kind": "system",
                        "actor_name": "",
                        "from_status": before,
                        "to_status": after,
                        "tier": 1,
                        "note": note,
                    }
                )
        for chunk in range(0, len(events), 20_000):
            s.execute(insert(TicketEvent), events[chunk : chunk + 20_000])
        # Every ticket at a household of its unit (the public view reduces it to building and entrance).
        s.execute(
            text(
                "update tickets set household_id = "
                "(select min(h.id) from households h where h.unit_id = tickets.unit_id)"
            )
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))  # as autovacuum would have done after a bulk load
    return len(events)


def _serve(url: str) -> tuple[Any, str, str]:
    import socket
    import threading

    import uvicorn

    from bot.app import build_app
    from bot.server import create_server
    from data.services.integrators import create_key

    settings = load_settings(ROOT / "config.yaml", environ={"LIANHU_DATABASE_URL": url})
    app = build_app(settings, clock=ManualClock(datetime(2026, 11, 30, 4)), parser=_NoParser(), migrate=False)
    with app.db.session() as s:
        key, _ = create_key(app.context(s), "bench", ("read", "private"), 1_000_000)
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
    return server, base, key


def _times(client: httpx.Client, path: str, runs: int, expect: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert len(r.json()) == expect, (path, len(r.json()))
    return out


def measure(name: str, url: str, n: int) -> dict[str, Any]:
    db = _fresh(url)
    with db.session() as s:
        load_demo(_ctx(db, s))
    _bulk_tickets(db, n)
    events = _events(db)
    db.dispose()
    server, base, key = _serve(url)
    filtered = FILTERED_PATH + "&" + urlencode({"api_key": key})
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            _times(client, FIRST, 3, 50)  # warm up: statements cached
            first = _times(client, FIRST, RUNS, 50)
            page = _times(client, filtered, RUNS, 50)
    finally:
        server.should_exit = True
        time.sleep(0.5)
        server.app_db.dispose()
    return {
        f"{name}_events": events,
        f"{name}_requests_first_page_ms_p50_p95": [_p(first, 0.5), _p(first, 0.95)],
        f"{name}_requests_filtered_page_ms_p50_p95": [_p(page, 0.5), _p(page, 0.95)],
    }


FILTERED_PATH = FIRST + "?" + urlencode(FILTERED)


def run(n: int = 100_000) -> dict[str, Any]:
    ensure_database(PG_URL)
    results: dict[str, Any] = {
        "tickets": n,
        "targets": "requests.json p95 <= 200 ms (first and filtered page)",
    }
    with tempfile.TemporaryDirectory() as tmp:
        results.update(measure("sqlite", f"sqlite:///{tmp}/bench.db", n))
    results.update(measure("postgres", PG_URL, n))
    return results


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
