"""Backups: the database, and residents' recordings if asked, in one .tar.gz; restored only into an
empty database.

SQLite is copied with its online backup API in one step: one read transaction, so the copy is the
database as of one instant while turns go on writing (WAL). PostgreSQL is dumped by pg_dump inside a
snapshot this module exports, and the rows counted in the manifest are counted in that same snapshot,
so a restore can check it got exactly what was saved.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, make_url

from core.errors import LianhuError
from core.settings import BackupSettings
from data.db import Database, _sqlite_path

FORMAT = 1
MANIFEST = "manifest.json"
MEMBERS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
RECORDINGS = "recordings"
COUNTED = ("tickets", "ticket_events", "outbox", "processed_messages", "identities", "residents")
NAME_PREFIX, NAME_SUFFIX = "lianhu-", ".tar.gz"


class BackupError(LianhuError):
    """A backup or restore cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    database: str
    revision: str
    counts: dict[str, int]
    recordings: int
    size: int
    seconds: float


def backup_name(now: datetime) -> str:
    return f"{NAME_PREFIX}{now.strftime('%Y%m%dT%H%M%SZ')}{NAME_SUFFIX}"


def create_backup(db: Database, target: Path, recordings: Path | None, tools: BackupSettings) -> BackupInfo:
    """Write the archive to `target` (atomically: a reader never sees half a file)."""
    started = time.perf_counter()
    kind = "sqlite" if db.is_sqlite else "postgresql"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as tmp:
        dump = Path(tmp) / MEMBERS[kind]
        if db.is_sqlite:
            revision, counts = _copy_sqlite(db, dump)
        else:
            revision, counts = _dump_postgres(db, dump, tools)
        files = sorted(p for p in recordings.rglob("*") if p.is_file()) if recordings else []
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": kind,
            "revision": revision,
            "counts": counts,
            "recordings": len(files) if recordings else None,
        }
        partial = Path(tmp) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
            tar.add(dump, MEMBERS[kind])
            for f in files:
                assert recordings is not None
                tar.add(f, f"{RECORDINGS}/{f.relative_to(recordings).as_posix()}")
        os.replace(partial, target)
    return BackupInfo(
        target, kind, revision, counts, len(files), target.stat().st_size, time.perf_counter() - started
    )


def _copy_sqlite(db: Database, copy: Path) -> tuple[str, dict[str, int]]:
    path = _sqlite_path(db.url)
    if path is None or not path.exists():
        raise BackupError(f"no SQLite database at {path}")
    source = sqlite3.connect(path, timeout=30)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)  # pages=-1: every page in one step, under one read transaction
        if target.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("the copy failed SQLite's check; the database itself may be damaged")
        target.execute("PRAGMA journal_mode=DELETE")
        return _revision_and_counts(lambda sql: target.execute(sql).fetchone()[0])
    finally:
        target.close()
        source.close()


def _dump_postgres(db: Database, dump: Path, tools: BackupSettings) -> tuple[str, dict[str, int]]:
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with db.engine.connect().execution_options(**options) as conn, conn.begin():
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        revision, counts = _revision_and_counts(lambda sql: conn.exec_driver_sql(sql).scalar())
        # pg_dump reads the very snapshot the rows above were counted in (it stays valid while
        # this transaction is open).
        _run_tool(
            tools.pg_dump,
            ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", f"--file={dump}"],
            db,
        )
    return revision, counts


def _revision_and_counts(scalar: Any) -> tuple[str, dict[str, int]]:
    try:
        revision = str(scalar("SELECT version_num FROM alembic_version"))
    except Exception as err:  # noqa: BLE001 - either driver's "no such table"
        raise BackupError("the database has no schema yet: nothing to back up") from err
    return revision, {t: int(scalar(f"SELECT count(*) FROM {t}")) for t in COUNTED}  # noqa: S608


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    tar.addfile(info, io.BytesIO(data))


def read_manifest(source: Path) -> dict[str, Any]:
    try:
        with tarfile.open(source, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.loads(member.read())
    except (OSError, KeyError, tarfile.TarError, ValueError) as err:
        raise BackupError(f"{source} is not a Lianhu backup ({err})") from err
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: backup format {manifest.get('format')} is not known here")
    return manifest


def restore_backup(
    db: Database, source: Path, recordings: Path | None, tools: BackupSettings
) -> tuple[dict[str, Any], dict[str, int], int]:
    """Load the archive into `db`, which must be empty, then migrate it to this version's schema.
    Returns the manifest, the rows found after the restore and the recordings put back."""
    manifest = read_manifest(source)
    kind = "sqlite" if db.is_sqlite else "postgresql"
    if manifest["database"] != kind:
        raise BackupError(
            f"this backup is of a {manifest['database']} database; restore it into one of that kind"
        )
    if not is_empty(db):
        raise BackupError("the database is not empty: restore goes into a new, empty database")
    with tempfile.TemporaryDirectory(prefix="lianhu-restore-") as tmp, tarfile.open(source, "r:gz") as tar:
        tar.extract(MEMBERS[kind], tmp, filter="data")
        dump = Path(tmp) / MEMBERS[kind]
        if db.is_sqlite:
            _load_sqlite(db, dump)
        else:
            _run_tool(tools.pg_restore, ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(dump)], db)  # fmt: skip
        with db.engine.connect() as conn:
            _, counts = _revision_and_counts(lambda sql: conn.exec_driver_sql(sql).scalar())
        db.migrate()
        restored = _extract_recordings(tar, recordings) if recordings is not None else 0
    return manifest, counts, restored


def _load_sqlite(db: Database, dump: Path) -> None:
    path = _sqlite_path(db.url)
    assert path is not None
    db.dispose()
    source, target = sqlite3.connect(dump), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _extract_recordings(tar: tarfile.TarFile, folder: Path) -> int:
    count = 0
    for member in tar.getmembers():
        if not member.isfile() or not member.name.startswith(RECORDINGS + "/"):
            continue
        relative = member.name[len(RECORDINGS) + 1 :]
        if (folder / relative).exists():
            continue
        member = member.replace(name=relative)
        tar.extract(member, folder, filter="data")
        count += 1
    return count


def is_empty(db: Database) -> bool:
    """No tables at all (a new database, or a SQLite file not yet created)."""
    if db.is_sqlite:
        path = _sqlite_path(db.url)
        if path is None or not path.exists():
            return True
    with db.engine.connect() as conn:
        return _table_count(conn) == 0


def _table_count(conn: Connection) -> int:
    if conn.dialect.name == "sqlite":
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
    return int(conn.exec_driver_sql(sql).scalar() or 0)


def _run_tool(tool: str, args: list[str], db: Database) -> None:
    """pg_dump / pg_restore against db, the password in the environment, never on the command line."""
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} not found: install postgresql-client (version >= the server's)")
    url = make_url(db.url)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dbname = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    with tempfile.TemporaryFile() as err:
        done = subprocess.run([tool, f"--dbname={dbname}", *args], env=env, stderr=err, check=False)
        if done.returncode != 0:
            err.seek(0)
            raise BackupError(f"{tool} failed: {err.read().decode(errors='replace').strip()[-2000:]}")


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups that `backup` named itself in `folder`."""
    if keep <= 0:
        return []
    ours = sorted(p for p in folder.glob(f"{NAME_PREFIX}*{NAME_SUFFIX}") if p.is_file())
    old = ours[:-keep]
    for p in old:
        p.unlink()
    return old
