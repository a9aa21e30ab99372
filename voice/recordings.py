"""Residents' recordings on disk: kept for privacy.recording_retention_days, then deleted."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path

SUFFIXES = {".amr", ".ogg", ".opus", ".webm", ".mp3", ".wav", ".ulaw", ".pcm", ".m4a"}


def save(directory: Path, data: bytes, suffix: str, now: datetime) -> Path:
    """Store one recording under directory/YYYY-MM-DD/ with an unguessable name."""
    day = directory / now.strftime("%Y-%m-%d")
    day.mkdir(parents=True, exist_ok=True)
    path = day / f"{now.strftime('%H%M%S')}-{secrets.token_hex(6)}.{suffix.lstrip('.')}"
    path.write_bytes(data)
    return path


def purge(directory: Path, days: int, now: datetime) -> list[Path]:
    """Delete recordings last modified more than `days` days before `now`; returns what was deleted."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    cutoff = (now - timedelta(days=days)).timestamp()
    removed: list[Path] = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUFFIXES and path.stat().st_mtime < cutoff:
            path.unlink()
            removed.append(path)
    for folder in sorted((p for p in directory.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed
