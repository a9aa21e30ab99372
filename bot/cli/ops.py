"""Keeping an installation healthy: backup, restore, doctor."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.cli import Command
from core.settings import Settings


def _backup_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="archive to write (default: a dated file in backup.dir)")
    p.add_argument(
        "--recordings",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="include residents' voice recordings (default: backup.include_recordings)",
    )


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from data.backup import BackupError, backup_name, create_backup, prune
    from data.db import Database

    folder = settings.path(settings.backup.dir)
    if not args.file:
        folder.mkdir(parents=True, exist_ok=True)
    target, dated = Path(args.file) if args.file else folder, not args.file
    if target.is_dir():
        folder, target, dated = target, target / backup_name(datetime.now(UTC)), True
    wanted = settings.backup.include_recordings if args.recordings is None else args.recordings
    recordings = settings.path(settings.paths.recordings) if wanted else None
    db = Database(settings.database.url, root=settings.root)
    try:
        info = create_backup(db, target, recordings, settings.backup)
    except BackupError as err:
        print(f"backup failed: {err}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    c = info.counts
    print(
        f"backup written: {info.path} ({info.database}, revision {info.revision}, {c['tickets']} tickets, "
        f"{c['processed_messages']} messages, {info.recordings} recordings, {info.size / 2**20:.1f} MB, "
        f"{info.seconds:.1f} s)"
    )
    if dated:
        removed = prune(folder, settings.backup.keep)
        if removed:
            print(f"deleted {len(removed)} old backup(s), keeping the newest {settings.backup.keep}")
    return 0


def _restore_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="an archive written by `python -m bot backup`")
    p.add_argument(
        "--recordings",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="put the archived recordings back into paths.recordings",
    )


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from data.backup import BackupError, restore_backup
    from data.db import Database

    recordings = settings.path(settings.paths.recordings) if args.recordings else None
    db = Database(settings.database.url, root=settings.root)
    try:
        manifest, counts, restored = restore_backup(db, Path(args.file), recordings, settings.backup)
    except BackupError as err:
        print(f"restore refused: {err}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    saved = manifest["counts"]
    differ = {t: (saved[t], counts.get(t)) for t in saved if counts.get(t) != saved[t]}
    print(
        f"restored the backup of {manifest['created_at']}: {counts['tickets']} tickets, "
        f"{counts['processed_messages']} messages, {restored} recordings; schema migrated to this version"
    )
    if differ:
        print(f"rows differ from the backup's manifest (saved, restored): {differ}", file=sys.stderr)
        return 1
    return 0


def _doctor(settings: Settings, args: argparse.Namespace) -> int:
    from bot.doctor import PROBLEM, examine, report

    findings = examine(settings)
    print(report(findings))
    return 1 if any(f.level == PROBLEM for f in findings) else 0


COMMANDS = [
    Command(
        "backup",
        "write the database (and recordings) to one archive; old dated ones beyond backup.keep are deleted",
        _backup,
        _backup_args,
    ),
    Command("restore", "load a backup into an empty database, then migrate it", _restore, _restore_args),
    Command("doctor", "check that this installation is ready to serve; non-zero exit on a problem", _doctor),
]
