"""Closed-loop figures: outbox deliveries per second (1 and 2 workers, PostgreSQL) and report time
for 100,000 tickets. `python -m bench.loop` prints JSON."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from core.catalog import DemandCatalog
from core.render import StringCatalog
from core.settings import load_settings
from data.clock import ManualClock
from data.db import Database
from data.demo import load_demo
from data.models import OutboxMessage, Rating, Ticket
from data.reports import build_report
from data.services import ServiceContext

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get(
    "LIANHU_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/lianhu_bench"
)


def ensure_database(url: str) -> None:
    """Benchmarks use their own database so they never disturb the tests' one."""
    base, _, name = url.rpartition("/")
    admin = Database(f"{base}/postgres")
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.scalar(text("select 1 from pg_database where datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _fresh(url: str) -> Database:
    db = Database(url, root=ROOT)
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    db.migrate()
    return db


def _ctx(db: Database, session: Any) -> ServiceContext:
    s = load_settings(ROOT / "config.yaml", environ={})
    catalog = DemandCatalog.load(ROOT / s.paths.catalog)
    strings = StringCatalog.load(ROOT / s.paths.strings)
    return ServiceContext.build(session, ManualClock(datetime(2026, 11, 1)), catalog, strings, s)


def _queue(db: Database, n: int) -> None:
    now = datetime(2026, 11, 1)
    with db.session() as s:
        ident_id = s.scalar(text("select id from identities where external_id = 'leader1'"))
        s.execute(
            insert(OutboxMessage),
            [
                {
                    "dedupe_key": f"bench:{i}",
                    "identity_id": ident_id,
                    "channel": "demo",
                    "kind": "bench",
                    "text_key": "help.thanks",
                    "params": {},
                    "choices": [],
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                    "last_error": "",
                }
                for i in range(n)
            ],
        )


def outbox_throughput(n: int = 3000) -> dict[str, Any]:
    out: dict[str, Any] = {"notifications": n}
    for workers in (1, 2):
        db = _fresh(PG_URL)
        with db.session() as s:
            load_demo(_ctx(db, s))
        _queue(db, n)
        env = {
            **os.environ,
            "LIANHU_DATABASE_URL": PG_URL,
            "LIANHU_OUTBOX_BATCH_SIZE": "100",
            "PYTHONPATH": str(ROOT),
        }
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", "dispatch", "--drain"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(workers)
        ]
        lines = [p.communicate(timeout=600)[0].strip() for p in procs]
        elapsed = max(float(line.rsplit(" ", 1)[1].rstrip("s")) for line in lines)
        sent = sum(int(line.split()[1].rstrip(",")) for line in lines)
        out[f"postgres_{workers}_worker_per_s"] = round(sent / elapsed, 1)
        out[f"postgres_{workers}_worker_sent"] = sent
        db.dispose()
    return out


def report_time(n: int = 100_000) -> dict[str, Any]:
    results: dict[str, Any] = {"tickets": n}
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in (("sqlite", f"sqlite:///{tmp}/bench.db"), ("postgres", PG_URL)):
            db = _fresh(url)
            with db.session() as s:
                ctx = _ctx(db, s)
                load_demo(ctx)
            _bulk_tickets(db, n)
            with db.session() as s:
                ctx = _ctx(db, s)
                ctx.clock = ManualClock(datetime(2026, 11, 30))
                t0 = time.perf_counter()
                report = build_report(ctx, "month")
                results[f"{name}_report_seconds"] = round(time.perf_counter() - t0, 3)
                results[f"{name}_report_tickets"] = report.total
            db.dispose()
    return results


def _bulk_tickets(db: Database, n: int) -> None:
    rng = random.Random(7)
    catalog = DemandCatalog.load(ROOT / "data/catalog/demands.yaml")
    items = catalog.items()
    start = datetime(2026, 11, 1)
    with db.session() as s:
        unit_ids = [r[0] for r in s.execute(text("select id from units"))]
        grid_of = dict(s.execute(text("select id, grid_id from units")).all())
        community = s.scalar(text("select id from communities"))
        ident = s.scalar(text("select id from identities limit 1"))
        rows, ratings = [], []
        for i in range(n):
            it = items[i % len(items)]
            created = start + timedelta(minutes=rng.randrange(29 * 24 * 60))
            accepted = created + timedelta(hours=rng.random() * 48) if i % 5 else None
            resolved = accepted + timedelta(hours=rng.random() * 48) if accepted and i % 3 else None
            unit = unit_ids[i % len(unit_ids)]
            rows.append(
                {
                    "id": i + 1,
                    "public_no": str(100000 + i),
                    "community_id": community,
                    "category": it.category,
                    "item": it.code,
                    "description": "",
                    "urgent": i % 97 == 0,
                    "status": "closed" if resolved else ("accepted" if accepted else "submitted"),
                    "tier": 1,
                    "unit_id": unit,
                    "grid_id": grid_of[unit],
                    "source_channel": "bench",
                    "needs_verification": False,
                    "created_at": created,
                    "updated_at": created,
                    "accepted_at": accepted,
                    "resolved_at": resolved,
                    "acknowledged_at": accepted if i % 97 == 0 else None,
                    "accept_due_at": created + timedelta(hours=24),
                    "resolve_due_at": created + timedelta(hours=72),
                    "reporter_identity_id": ident,
                }
            )
            if resolved:
                ratings.append(
                    {"ticket_id": i + 1, "score": 1 + (i % 7 == 0) * 2, "comment": "", "created_at": resolved}
                )
        for chunk in range(0, n, 10_000):
            s.execute(insert(Ticket), rows[chunk : chunk + 10_000])
        for chunk in range(0, len(ratings), 10_000):
            s.execute(insert(Rating), ratings[chunk : chunk + 10_000])


def run() -> dict[str, Any]:
    ensure_database(PG_URL)
    return {"outbox": outbox_throughput(), "report": report_time()}


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
