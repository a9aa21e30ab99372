"""The database: one engine and session factory per process, migrations applied on start."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import Executable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept postgresql:// and postgres:// and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    def __init__(self, url: str, echo: bool = False, root: str | Path = ".") -> None:
        url = self.resolve_url(url, root)
        sqlite_file = _sqlite_path(url)
        if sqlite_file is not None:
            sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time and every unit of work here takes the write lock. Threads and
        # server processes queue on a lock of their own instead: waiting in SQLite's busy handler means
        # sleeping 1, 2, 5, 10… ms per retry, which under load costs more than the work itself.
        self._writer: contextlib.AbstractContextManager[Any] = (
            WriterLock(_sqlite_path(url)) if self.is_sqlite else contextlib.nullcontext()
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        with self._writer, self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def try_write_lock(self) -> bool:
        """SQLite: take the writer lock if nobody holds it (units of work on this thread then
        nest inside it); release with `release_write_lock`. False when busy, or not SQLite."""
        return isinstance(self._writer, WriterLock) and self._writer.acquire(blocking=False)

    def release_write_lock(self) -> None:
        if isinstance(self._writer, WriterLock):
            self._writer.release()

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if not self.is_sqlite:
                # Server and dispatchers start together: one migrates, the others wait, then find
                # nothing left to do (SQLite serializes through its write lock).
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7244831)")
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.engine.dispose()

    @staticmethod
    def resolve_url(url: str, root: str | Path = ".") -> str:
        """The driver URL; relative SQLite paths are relative to the project root, whatever the cwd."""
        url = normalize_url(url)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = f"sqlite:///{Path(root) / url[len('sqlite:///') :]}"
        return url

    def revision(self) -> str | None:
        """The schema's Alembic revision (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        """The newest revision this version of the code knows."""
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return ScriptDirectory.from_config(cfg).get_current_head()

    def clock_skew_seconds(self, now: datetime) -> float | None:
        """The database server's clock minus `now` (naive UTC); None for SQLite (the same machine)."""
        if self.is_sqlite:
            return None
        with self.engine.connect() as connection:
            server: datetime = connection.exec_driver_sql("SELECT now() AT TIME ZONE 'UTC'").scalar_one()
        return float((server - now).total_seconds())

    def server_major_version(self) -> int | None:
        if self.is_sqlite:
            return None
        with self.engine.connect() as connection:
            number = connection.exec_driver_sql("SHOW server_version_num").scalar_one()
        return int(number) // 10000


class Prepared:
    """A prebuilt statement run through SQLAlchemy, or on SQLite straight on the driver's connection
    (the same connection, inside the same transaction). For these few statements that every turn
    runs, SQLAlchemy's per-statement machinery costs several times what SQLite itself does.
    Parameters and results are converted as SQLAlchemy stores them on SQLite: JSON text, and
    datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'."""

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt
        compiled = stmt.compile(dialect=sqlite.dialect(paramstyle="named"))  # type: ignore[attr-defined]
        self.sqlite = str(compiled)
        if "POSTCOMPILE" in self.sqlite:
            raise ValueError("IN lists must be literal in a prepared statement")
        # Values fixed in the statement itself: the caller passes the rest.
        self.fixed = {k: _to_sqlite(v) for k, v in compiled.params.items() if v is not None}

    def run(self, conn: Connection, params: dict[str, Any]) -> Any:
        """Result rows as tuples, in the statement's column order."""
        if conn.dialect.name != "sqlite":
            return conn.execute(self.stmt, params)
        raw = {**self.fixed, **{k: _to_sqlite(v) for k, v in params.items()}}
        try:
            return conn.connection.driver_connection.execute(self.sqlite, raw)  # type: ignore[union-attr]
        except sqlite3.IntegrityError as err:
            raise IntegrityError(self.sqlite, raw, err) from err


def _to_sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def from_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def from_datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _sqlite_path(url: str) -> Path | None:
    """The database file, or None for an in-memory database (nobody else can write to it)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if not path or path == ":memory:" else Path(path)


class WriterLock:
    """One writer at a time: a lock for this process's threads, then flock on a file beside the
    database for the other processes (the kernel queues waiters; nobody polls)."""

    def __init__(self, db_path: Path | None) -> None:
        self._threads = threading.Lock()
        self._file = None if db_path is None else db_path.with_name(db_path.name + "-writer.lock")
        self._fd: int | None = None
        self._pid = os.getpid()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        self.acquire()

    def acquire(self, blocking: bool = True) -> bool:
        me = threading.get_ident()
        if self._owner == me:  # a unit of work opened inside another one on the same thread
            self._depth += 1
            return True
        if not self._threads.acquire(blocking):
            return False
        try:
            if self._file is not None:
                if self._fd is None or self._pid != os.getpid():  # first use, or a forked child
                    self._fd = os.open(self._file, os.O_RDWR | os.O_CREAT, 0o600)
                    self._pid = os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._threads.release()
            return False
        except BaseException:
            self._threads.release()
            raise
        self._owner, self._depth = me, 1
        return True

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def release(self) -> None:
        self._depth -= 1
        if self._depth:
            return
        self._owner = None
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy manage transactions; see "begin" below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN so concurrent turns queue instead of failing on upgrade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
