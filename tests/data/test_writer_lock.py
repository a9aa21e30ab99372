"""SQLite's one writer: threads and processes queue on WriterLock instead of SQLite's busy handler."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from data.db import Database, WriterLock


def _hold(path: str, held, release) -> None:  # type: ignore[no-untyped-def]
    lock = WriterLock(Path(path))
    with lock:
        held.set()
        release.wait(20)


def test_another_process_holding_the_lock_makes_a_try_fail_and_a_wait_wait(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    held, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(tmp_path / "x.db"), held, release))
    proc.start()
    try:
        assert held.wait(20)
        lock = WriterLock(tmp_path / "x.db")
        assert lock.acquire(blocking=False) is False
        threading.Timer(0.3, release.set).start()
        t0 = time.monotonic()
        with lock:  # blocks until the other process lets go
            waited = time.monotonic() - t0
        assert 0.2 < waited < 10
        assert lock.acquire(blocking=False) is True
        lock.release()
    finally:
        release.set()
        proc.join(20)


def test_threads_exclude_each_other_and_one_thread_may_nest(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "y.db")
    with lock, lock:  # nested units of work on one thread
        got: list[bool] = []
        t = threading.Thread(target=lambda: got.append(lock.acquire(blocking=False)))
        t.start()
        t.join()
        assert got == [False]
    assert lock.acquire(blocking=False)
    lock.release()


def test_sessions_on_sqlite_serialize_and_commit(tmp_path: Path) -> None:
    from sqlalchemy import text

    db = Database(f"sqlite:///{tmp_path / 'z.db'}")
    with db.session() as s:
        s.execute(text("create table n (v integer)"))

    def add(k: int) -> None:
        for _ in range(20):
            with db.session() as s:
                s.execute(text("insert into n values (:v)"), {"v": k})

    threads = [threading.Thread(target=add, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.session() as s:
        assert s.execute(text("select count(*) from n")).scalar() == 80
    assert db.try_write_lock()
    db.release_write_lock()
    db.dispose()


def test_lock_file_sits_beside_the_database_and_memory_databases_need_none() -> None:
    from data.db import _sqlite_path

    assert _sqlite_path("sqlite:////var/lib/lianhu/x.db?timeout=5") == Path("/var/lib/lianhu/x.db")
    assert _sqlite_path("sqlite://") is None
    assert _sqlite_path("sqlite:///:memory:") is None
