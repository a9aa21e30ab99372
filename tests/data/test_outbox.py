"""The transactional outbox and its dispatcher: exactly once locally, retries with backoff remotely."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data.models import OutboxMessage, PushedMessage
from data.services.directory import find_identity
from data.services.outbox import notify

ROOT = Path(__file__).resolve().parents[2]


def queue(app, n: int, who: str = "demo:leader1") -> None:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        ctx = app.context(s)
        ident = find_identity(ctx, who)
        for i in range(n):
            notify(ctx, kind="test", key="help.thanks", params={}, staff_id=ident.staff_id, event_id=i)


def counts(app) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        pushed = s.scalar(select(func.count(PushedMessage.id)))
        distinct = s.scalar(select(func.count(func.distinct(PushedMessage.outbox_id))))
        pending = s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status != "sent"))
    return int(pushed or 0), int(distinct or 0), int(pending or 0)


def test_notify_is_deduplicated(app) -> None:  # type: ignore[no-untyped-def]
    queue(app, 3)
    queue(app, 3)  # the same (kind, ticket, event, identity): not queued again
    assert app.dispatcher.drain().sent == 3
    assert app.dispatcher.drain().sent == 0
    assert counts(app) == (3, 3, 0)


class FlakySender:
    def __init__(self, fail_times: int) -> None:
        self.fail_times = fail_times
        self.sent: list[str] = []

    def deliver(self, external_id, message, delivery) -> None:  # type: ignore[no-untyped-def]
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("channel down")
        self.sent.append(message.text)


def test_remote_failure_backs_off_and_does_not_block_others(app, clock) -> None:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        ctx = app.context(s)
        from data.services.directory import get_or_create_identity

        ident = get_or_create_identity(ctx, "telegram", "4242")
        ident.staff_id = find_identity(ctx, "demo:leader1").staff_id
    sender = FlakySender(fail_times=2)
    app.add_sender("telegram", sender)
    queue(app, 1)
    stats = app.dispatcher.drain()
    assert stats.sent == 1 and stats.failed == 1  # the local copy went out, the remote one failed
    clock.advance(seconds=4)
    assert app.dispatcher.drain().sent == 0  # backoff: first retry after 5 s
    clock.advance(seconds=2)
    assert app.dispatcher.drain().failed == 1
    clock.advance(seconds=9)
    assert app.dispatcher.drain().sent == 0  # second retry after 10 s more
    clock.advance(seconds=2)
    assert app.dispatcher.drain().sent == 1
    assert len(sender.sent) == 1


def _worker_env(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        **os.environ,
        "LIANHU_DATABASE_URL": app.db.url,
        "LIANHU_OUTBOX_BATCH_SIZE": "20",
        "PYTHONPATH": str(ROOT),
    }


@pytest.mark.slow
@pytest.mark.postgres
def test_two_dispatchers_deliver_1000_exactly_once(app) -> None:  # type: ignore[no-untyped-def]
    if app.db.is_sqlite:
        pytest.skip("several dispatcher processes are a PostgreSQL deployment")
    queue(app, 1000)
    cmd = [sys.executable, "-m", "bot", "dispatch", "--drain"]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=_worker_env(app), stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=240)[0] for p in procs]
    sent = [int(o.split()[1].rstrip(",")) for o in outs]
    assert sum(sent) == 1000 and all(n > 0 for n in sent), outs
    assert counts(app) == (1000, 1000, 0)


@pytest.mark.slow
def test_dispatcher_killed_mid_batch_loses_nothing(app) -> None:  # type: ignore[no-untyped-def]
    queue(app, 300)
    cmd = [sys.executable, "-m", "bot", "dispatch"]
    for delay in (1.2, 1.5, 1.8):
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=_worker_env(app), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    subprocess.run(
        [sys.executable, "-m", "bot", "dispatch", "--drain"],
        cwd=ROOT,
        env=_worker_env(app),
        check=True,
        capture_output=True,
        timeout=240,
    )
    assert counts(app) == (300, 300, 0)
