"""Backups taken while turns are being answered, restored into an empty database: every ticket a
resident had been given a number for before the backup started is there, and each one whole."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from bot.app import App
from core.messages import Inbound
from data.db import normalize_url
from data.models import Resident
from data.services.directory import get_or_create_identity
from tests.conftest import ROOT, reset_postgres

FILED = re.compile(r"已登记，单号 (\d{6})")
REPORTS = ("我家水管漏水了", "楼道的灯坏了", "垃圾好几天没人收了", "电梯坏了")
SENDERS = 8


def cli(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LIANHU_DATABASE_URL": url,
        "LIANHU_PATHS_VAR_DIR": str(tmp_path / "var"),
        "LIANHU_PATHS_RECORDINGS": str(tmp_path / "var/recordings"),
        "LIANHU_BACKUP_DIR": str(tmp_path / "backups"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def empty_database(db_url: str, tmp_path: Path) -> str:
    """A second, empty database of the same kind (PostgreSQL: <name>_restore on the same server)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    base, _, name = db_url.rpartition("/")
    target = f"{base}/{name}_restore"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if not c.execute(
            text("select 1 from pg_database where datname = :n"), {"n": f"{name}_restore"}
        ).first():
            c.execute(text(f'create database "{name}_restore"'))
    admin.dispose()
    reset_postgres(normalize_url(target))
    return target


def senders(app: App) -> list[str]:
    with app.db.session() as s:
        residents = list(s.scalars(select(Resident.id).order_by(Resident.id).limit(SENDERS)))
        for i, rid in enumerate(residents):
            get_or_create_identity(app.context(s), "wechat", f"oLoad{i}").resident_id = rid
    return [f"oLoad{i}" for i in range(len(residents))]


class Load:
    """Residents reporting and confirming, in threads, until stopped; remembers when each ticket
    number was given back."""

    def __init__(self, app: App, openids: list[str]) -> None:
        self.app, self.openids = app, openids
        self.acknowledged: list[tuple[float, str]] = []
        self.turns = 0
        self.stop = threading.Event()
        self._ids = itertools.count()
        self.threads = [threading.Thread(target=self.run, args=(o,)) for o in openids]

    def run(self, openid: str) -> None:
        for words in itertools.cycle(REPORTS):
            if self.stop.is_set():
                return
            for said in (words, "1"):
                answer = self.app.engine.handle(Inbound("wechat", openid, f"b{next(self._ids)}", said))
                self.turns += 1
                m = FILED.search(answer.text)
                if m:
                    self.acknowledged.append((time.monotonic(), m.group(1)))

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


def test_backup_under_load_restores_every_acknowledged_ticket(app: App, db_url: str, tmp_path: Path) -> None:
    recordings = tmp_path / "var/recordings/phone/2026-11-02"
    recordings.mkdir(parents=True)
    (recordings / "010203-abc.wav").write_bytes(b"RIFF0000WAVE")
    archive = tmp_path / "under-load.tar.gz"
    with Load(app, senders(app)) as load:
        while len(load.acknowledged) < 10:
            time.sleep(0.05)
        started, turns_before = time.monotonic(), load.turns
        done = cli(db_url, tmp_path, "backup", str(archive))
        turns_during = load.turns - turns_before
    assert done.returncode == 0, done.stderr
    assert turns_during >= 2, "the backup did not run while turns were being answered"
    before = {no for at, no in load.acknowledged if at < started}
    after = {no for at, no in load.acknowledged if at >= started}
    assert len(before) >= 10

    target = empty_database(db_url, tmp_path)
    restored = cli(target, tmp_path / "elsewhere", "restore", str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    engine = create_engine(normalize_url(target))
    with engine.connect() as c:
        numbers = set(c.execute(text("select public_no from tickets")).scalars())
        # Each ticket whole: its history and the task to the leader came with it (one transaction).
        torn = c.execute(
            text(
                "select count(*) from tickets t where not exists (select 1 from ticket_events e where "
                "e.ticket_id = t.id) or not exists (select 1 from outbox o where o.ticket_id = t.id)"
            )
        ).scalar()
        revision = c.execute(text("select version_num from alembic_version")).scalar()
    engine.dispose()
    assert before <= numbers, f"acknowledged before the backup but missing: {sorted(before - numbers)}"
    assert numbers <= before | after  # nothing invented
    assert torn == 0 and revision
    assert (
        tmp_path / "elsewhere/var/recordings/phone/2026-11-02/010203-abc.wav"
    ).read_bytes() == b"RIFF0000WAVE"
    print(
        f"backup under load: {len(before)} tickets acknowledged before it started, {turns_during} turns "
        f"answered while it ran, {len(numbers)} tickets restored"
    )

    again = cli(target, tmp_path / "elsewhere", "restore", str(archive))
    assert again.returncode == 2 and "not empty" in again.stderr


def test_recordings_by_flag_and_old_backups_pruned(app: App, db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "var/recordings/web"
    folder.mkdir(parents=True)
    (folder / "note.ogg").write_bytes(b"OggS")
    without = tmp_path / "without.tar.gz"
    assert cli(db_url, tmp_path, "backup", str(without), "--no-recordings").returncode == 0
    with tarfile.open(without) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and not any(n.startswith("recordings/") for n in names)

    env_keep = {"LIANHU_BACKUP_KEEP": "2"}
    os.environ.update(env_keep)
    try:
        for _ in range(3):
            done = cli(db_url, tmp_path, "backup")
            assert done.returncode == 0, done.stderr
            time.sleep(1.1)  # dated names have one-second resolution
    finally:
        os.environ.pop("LIANHU_BACKUP_KEEP")
    kept = sorted((tmp_path / "backups").glob("lianhu-*.tar.gz"))
    assert len(kept) == 2 and "deleted 1 old backup" in done.stdout
    with tarfile.open(kept[-1]) as tar:
        assert "recordings/web/note.ogg" in tar.getnames()


def test_a_backup_of_one_kind_is_not_restored_into_the_other(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("one direction is enough")
    source = f"sqlite:///{tmp_path / 'source.db'}"
    assert cli(source, tmp_path, "migrate").returncode == 0
    archive = tmp_path / "sqlite.tar.gz"
    assert cli(source, tmp_path, "backup", str(archive)).returncode == 0
    pg = os.environ.get("LIANHU_TEST_DATABASE_URL")
    if not pg:
        pytest.skip("LIANHU_TEST_DATABASE_URL not set")
    done = cli(empty_database(normalize_url(pg), tmp_path), tmp_path, "restore", str(archive))
    assert done.returncode == 2 and "sqlite database" in done.stderr
    assert cli(source, tmp_path, "restore", str(tmp_path / "source.db")).returncode == 2  # not a backup
