"""`python -m bot doctor`: is this installation ready to serve? Plain findings, each with what to do.

Reads and never writes: it does not migrate, train, download or create a database.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.settings import Settings
from data.db import Database, _sqlite_path

OK, WARN, PROBLEM = "ok", "warning", "PROBLEM"
KNOWN_CHANNELS = {"console", "web", "wechat", "telegram", "phone"}


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warning | PROBLEM
    topic: str
    text: str
    fix: str = ""


def examine(settings: Settings, now: datetime | None = None) -> list[Finding]:
    """Every check, in the order a volunteer would fix things."""
    now = now or datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as stored
    findings: list[Finding] = []
    checks: list[Callable[[], list[Finding]]] = [
        lambda: check_config(settings),
        lambda: check_secrets(settings),
        lambda: check_database(settings, now),
        lambda: check_models(settings),
        lambda: check_prompts(settings),
        lambda: check_hotline(settings),
        lambda: check_voice_notes(settings),
        lambda: check_disk(settings),
    ]
    for check in checks:
        try:
            findings += check()
        except Exception as err:  # noqa: BLE001 - a broken check is itself a finding
            findings.append(Finding(PROBLEM, "doctor", f"a check failed: {type(err).__name__}: {err}"))
    return findings


def check_config(s: Settings) -> list[Finding]:
    out = [
        Finding(
            OK,
            "config",
            f"read; database {s.database.url.split(':', 1)[0]}, {s.server.workers} server worker(s)",
        )
    ]
    unknown = set(s.channels.enabled) - KNOWN_CHANNELS
    if unknown:
        out.append(
            Finding(
                PROBLEM,
                "config",
                f"unknown channels in channels.enabled: {sorted(unknown)}",
                f"use only {sorted(KNOWN_CHANNELS)}",
            )
        )
    if (
        _wechat_on(s) or s.telegram.mode == "webhook" and _telegram_on(s)
    ) and not s.server.public_url.startswith("https://"):
        out.append(
            Finding(
                PROBLEM,
                "config",
                "WeChat/Telegram need a public HTTPS address, server.public_url is "
                f"{s.server.public_url or 'not set'}",
                "set LIANHU_SERVER_PUBLIC_URL=https://your.domain "
                "and put the reverse proxy in front (docs/deploy.md)",
            )
        )
    if s.metrics.enabled and not s.metrics.token and not s.metrics.localhost_only:
        out.append(
            Finding(
                PROBLEM,
                "config",
                "/metrics is open to anyone who reaches the server",
                "set LIANHU_METRICS_TOKEN, or metrics.localhost_only: true",
            )
        )
    if s.server.workers > 1 and s.database.url.startswith("sqlite"):
        out.append(
            Finding(
                WARN,
                "config",
                "several server workers share one SQLite file (one writer at a time)",
                "for more than one core's worth of traffic use PostgreSQL (docs/deploy.md)",
            )
        )
    return out


def _wechat_on(s: Settings) -> bool:
    w = s.wechat
    return "wechat" in s.channels.enabled or bool(w.token or w.app_id or w.app_secret)


def _telegram_on(s: Settings) -> bool:
    return "telegram" in s.channels.enabled or bool(s.telegram.token)


def check_secrets(s: Settings) -> list[Finding]:
    wanted: list[tuple[str, str, str]] = []  # (channel, variable, value)
    if _wechat_on(s):
        w = s.wechat
        wanted += [
            ("wechat", "LIANHU_WECHAT_TOKEN", w.token),
            ("wechat", "LIANHU_WECHAT_APP_ID", w.app_id),
            ("wechat", "LIANHU_WECHAT_APP_SECRET", w.app_secret),
        ]
    if s.wechat.wecom_enabled:
        wanted.append(("wecom", "LIANHU_WECHAT_WECOM_SECRET", s.wechat.wecom_secret))
    if _telegram_on(s):
        wanted.append(("telegram", "LIANHU_TELEGRAM_TOKEN", s.telegram.token))
        if s.telegram.mode == "webhook":
            wanted.append(("telegram", "LIANHU_TELEGRAM_WEBHOOK_SECRET", s.telegram.webhook_secret))
    missing = [f"{var} ({channel})" for channel, var, value in wanted if not value]
    if missing:
        return [
            Finding(
                PROBLEM,
                "secrets",
                "missing: " + ", ".join(missing),
                "add them to the environment file (/etc/lianhu/lianhu.env) and restart",
            )
        ]
    on = sorted({c for c, _, _ in wanted})
    return [Finding(OK, "secrets", f"present for {', '.join(on)}" if on else "no channel needs one")]


def check_database(s: Settings, now: datetime) -> list[Finding]:
    db = Database(s.database.url, root=s.root)
    path = _sqlite_path(db.url) if db.is_sqlite else None
    if db.is_sqlite and (path is None or not path.exists()):
        return [Finding(PROBLEM, "database", f"no database file at {path}", "run: python -m bot migrate")]
    try:
        return _database_findings(db, s, now)
    finally:
        db.dispose()


def _database_findings(db: Database, s: Settings, now: datetime) -> list[Finding]:
    from data.services.health import emergency_figures, newest_record, outbox_figures

    try:
        current = db.revision()
    except Exception as err:  # noqa: BLE001 - any driver error means "not reachable"
        return [
            Finding(
                PROBLEM,
                "database",
                f"cannot connect: {str(err).splitlines()[0][:200]}",
                "check LIANHU_DATABASE_URL and that PostgreSQL is running (systemctl status postgresql)",
            )
        ]
    head = db.head_revision()
    if current != head:
        return [
            Finding(
                PROBLEM,
                "database",
                f"schema at revision {current or '(none)'}, this version needs {head}",
                "run: python -m bot migrate   (the server also migrates when it starts)",
            )
        ]
    out = [Finding(OK, "database", f"reachable, schema up to date ({head})")]
    with db.session() as session:
        outbox = outbox_figures(session, now)
        emergencies = emergency_figures(session, now)
        newest = newest_record(session)
    out += _outbox_findings(outbox, s)
    limit = s.deadlines.emergency_ack_target_minutes * 60
    if emergencies.oldest_unacknowledged_seconds > limit:
        out.append(
            Finding(
                WARN,
                "emergencies",
                f"{emergencies.unacknowledged} emergency(ies) unacknowledged, the "
                f"oldest for {emergencies.oldest_unacknowledged_seconds / 60:.0f} min",
                "call the duty contact; check that staff receive their messages",
            )
        )
    out += _clock_findings(db, s, now, newest)
    if not db.is_sqlite:
        out += _pg_dump_findings(db, s)
    return out


def _outbox_findings(outbox: object, s: Settings) -> list[Finding]:
    from data.services.health import OutboxFigures

    assert isinstance(outbox, OutboxFigures)
    out: list[Finding] = []
    if outbox.oldest_due_seconds > s.doctor.outbox_stall_seconds:
        out.append(
            Finding(
                PROBLEM,
                "outbox",
                f"stalled: {outbox.due} message(s) due, the oldest waiting {outbox.oldest_due_seconds:.0f} s",
                "start a dispatcher: systemctl start lianhu "
                "lianhu-dispatch@1 (or python -m bot dispatch); journalctl -u 'lianhu*' says why it stopped",
            )
        )
    else:
        out.append(
            Finding(
                OK,
                "outbox",
                f"{outbox.pending} pending, {outbox.due} due, oldest due {outbox.oldest_due_seconds:.0f} s",
            )
        )
    if outbox.dead:
        out.append(
            Finding(
                WARN,
                "outbox",
                f"{outbox.dead} message(s) given up after {s.outbox.max_attempts} attempts",
                "see outbox.last_error: a channel's credentials or a person's account may be wrong",
            )
        )
    return out


def _clock_findings(db: Database, s: Settings, now: datetime, newest: datetime | None) -> list[Finding]:
    limit = s.doctor.max_clock_skew_seconds
    if now.year < 2024:
        return [
            Finding(
                PROBLEM,
                "clock",
                f"this machine says it is {now:%Y-%m-%d}",
                "set the time: timedatectl set-ntp true",
            )
        ]
    if newest is not None and (newest - now).total_seconds() > limit:
        return [
            Finding(
                PROBLEM,
                "clock",
                f"the database holds a message from {newest:%Y-%m-%d %H:%M} UTC, later than now",
                "the clock went back: timedatectl set-ntp true, then check the time",
            )
        ]
    skew = db.clock_skew_seconds(now)
    if skew is not None and abs(skew) > limit:
        return [
            Finding(
                PROBLEM,
                "clock",
                f"this machine and the database server disagree by {skew:.0f} s",
                "turn on time sync on both: timedatectl set-ntp true",
            )
        ]
    return [
        Finding(
            OK,
            "clock",
            f"{now:%Y-%m-%d %H:%M} UTC"
            + (f", {skew:+.1f} s from the database server" if skew is not None else ""),
        )
    ]


def _pg_dump_findings(db: Database, s: Settings) -> list[Finding]:
    tool = shutil.which(s.backup.pg_dump)
    if tool is None:
        return [
            Finding(
                PROBLEM,
                "backup",
                f"{s.backup.pg_dump} not found: backups cannot run",
                "apt install postgresql-client",
            )
        ]
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout
    client = int("".join(c for c in version.split()[-1].split(".")[0] if c.isdigit()) or 0)
    server = db.server_major_version()
    if server and client < server:
        return [
            Finding(
                PROBLEM,
                "backup",
                f"pg_dump {client} cannot dump a PostgreSQL {server} server",
                f"install postgresql-client-{server}",
            )
        ]
    return [Finding(OK, "backup", f"pg_dump {client} for PostgreSQL {server}")]


def check_models(s: Settings) -> list[Finding]:
    from nlu.bundle import fingerprint, load_cached
    from voice.models import whisper_ready

    out: list[Finding] = []
    cache = s.path(s.paths.nlu_model_cache)
    catalog, training = s.path(s.paths.catalog), s.path(s.paths.nlu_training)
    if s.nlu.backend == "builtin":
        if not cache.exists():
            out.append(
                Finding(
                    WARN,
                    "models",
                    f"no understanding model at {cache}: the server trains one at start (~45 s)",
                    "run: python -m nlu train --if-stale",
                )
            )
        elif load_cached(cache, fingerprint(catalog, training)) is None:
            out.append(
                Finding(
                    WARN,
                    "models",
                    "the understanding model is older than its training data",
                    "run: python -m nlu train --if-stale (else the server retrains at start, ~45 s)",
                )
            )
        else:
            out.append(Finding(OK, "models", "understanding model up to date"))
    if s.asr.backend == "whisper":
        model_dir = s.path(s.paths.model_cache) / s.asr.whisper_model
        ready = whisper_ready(model_dir)
    else:
        model_dir = s.path(s.asr.vosk_model_dir)
        ready = model_dir.is_dir() and any(model_dir.iterdir())
    if ready:
        out.append(Finding(OK, "models", f"speech model {s.asr.backend} at {model_dir}"))
    else:
        fix = "run: python -m voice setup" if s.asr.backend == "whisper" else "run: python -m voice models"
        out.append(
            Finding(
                PROBLEM,
                "models",
                f"speech model missing at {model_dir}: voice notes and phone calls cannot be understood",
                fix,
            )
        )
    return out


def check_hotline(s: Settings) -> list[Finding]:
    """With the phone on: decode a phone request here and say how many callers speaking at once all
    hear back in time (voice.capacity); the CPU decides this more than any setting."""
    if not s.phone.enabled or s.asr.backend != "whisper":
        return []
    from voice.capacity import callers_within, reply_after, sample_request
    from voice.models import whisper_ready
    from voice.prompts import PromptLibrary

    if not whisper_ready(s.path(s.paths.model_cache) / s.asr.whisper_model):
        return []  # check_models has said so
    decode_s = _timed(s, sample_request(PromptLibrary()), narrowband=True, hurried=True)
    end_s, workers, want = s.phone.end_silence_ms / 1000, s.asr.workers, s.doctor.hotline_callers
    held = callers_within(s.doctor.hotline_reply_within_seconds, end_s, decode_s, workers)
    said = (
        f"a phone request takes {decode_s:.2f} s to recognize here, {workers} at a time: "
        f"{held} callers speaking at once all hear back within {s.doctor.hotline_reply_within_seconds:g} s"
    )
    if held >= want:
        return [Finding(OK, "hotline", said)]
    return [
        Finding(
            WARN,
            "hotline",
            f"{said}; {want} would wait up to {reply_after(want, end_s, decode_s, workers):.1f} s",
            "a faster CPU or more cores (then asr.workers and asr.whisper_threads = cores), or fewer calls at once (phone.max_calls)",
        )
    ]


def check_voice_notes(s: Settings) -> list[Finding]:
    """With voice notes decoded in Whisper's full window (`asr.whisper_full_window`) and a channel that
    brings 16 kHz notes (web, Telegram): time one here against `doctor.voice_note_within_seconds`."""
    wideband = {"web", "telegram"} & set(s.channels.enabled)
    if not s.asr.whisper_full_window or s.asr.backend != "whisper" or not wideband:
        return []
    from voice.capacity import sample_note
    from voice.models import whisper_ready
    from voice.prompts import PromptLibrary

    if not whisper_ready(s.path(s.paths.model_cache) / s.asr.whisper_model):
        return []  # check_models has said so
    note = sample_note(PromptLibrary())
    decode_s = _timed(s, note, narrowband=False, hurried=False)
    within = s.doctor.voice_note_within_seconds
    said = f"a {len(note) / 32000:.1f} s voice note takes {decode_s:.2f} s to recognize here"
    if decode_s <= within:
        return [Finding(OK, "voice notes", said)]
    return [
        Finding(
            WARN,
            "voice notes",
            f"{said}, more than {within:g} s",
            "asr.whisper_full_window: false (the short window: about 3 times faster, hears spontaneous speech a little worse), or a faster CPU",
        )
    ]


_TIMINGS: dict[tuple[object, ...], float] = {}


def _timed(s: Settings, pcm16k: bytes, *, narrowband: bool, hurried: bool) -> float:
    """Seconds one decode of the sample takes here (voice.capacity), measured once a process for
    these speech settings: loading the model and timing it cost seconds."""
    from voice.capacity import decode_seconds
    from voice.service import build_transcriber

    key = (str(s.path(s.paths.model_cache)), s.asr, narrowband, hurried)
    if key not in _TIMINGS:
        _TIMINGS[key] = decode_seconds(build_transcriber(s), pcm16k, narrowband=narrowband, hurried=hurried)
    return _TIMINGS[key]


def check_prompts(s: Settings) -> list[Finding]:
    from core.catalog import DemandCatalog
    from core.render import StringCatalog
    from voice.prompts import PROMPT_DIR, PromptLibrary, required_texts
    from voice.vocabulary import catalog_names

    out: list[Finding] = []
    live = s.tts.live_backend if s.tts.backend == "prompts" else s.tts.backend
    if live == "espeak" and shutil.which("espeak-ng") is None:
        out.append(
            Finding(
                PROBLEM,
                "prompts",
                "espeak-ng is not installed: free text cannot be spoken",
                "run: scripts/system-deps.sh run   (or apt install espeak-ng)",
            )
        )
    if s.tts.backend != "prompts":
        return out
    DemandCatalog.load(s.path(s.paths.catalog))  # a broken catalog shows here, not on the first call
    strings = StringCatalog.load(s.path(s.paths.strings))
    wanted = required_texts(strings.fixed_texts(), catalog_names(s.path(s.paths.catalog)))
    missing = PromptLibrary(PROMPT_DIR).missing(wanted)
    if missing:
        out.append(
            Finding(
                WARN,
                "prompts",
                f"{len(missing)} sentence(s) have no recorded prompt (callers hear the "
                f"synthetic voice for them), e.g. {sorted(missing)[0]}",
                "run: make prompts",
            )
        )
    else:
        out.append(Finding(OK, "prompts", f"prompt library complete ({len(wanted)} sentences and words)"))
    return out


def check_disk(s: Settings) -> list[Finding]:
    places = {s.path(s.paths.var_dir), s.path(s.backup.dir)}
    if s.database.url.startswith("sqlite"):
        path = _sqlite_path(Database.resolve_url(s.database.url, s.root))
        if path is not None:
            places.add(path.parent)
    out: list[Finding] = []
    for place in sorted(places):
        existing = next((p for p in (place, *place.parents) if p.exists()), Path("/"))
        free_mb = shutil.disk_usage(existing).free / 2**20
        if free_mb < s.doctor.min_free_disk_mb:
            out.append(
                Finding(
                    PROBLEM,
                    "disk",
                    f"{free_mb:.0f} MB free where {place} lives",
                    "free space (old backups: backup.keep; recordings: privacy.recording_retention_days)",
                )
            )
        else:
            out.append(Finding(OK, "disk", f"{free_mb / 1024:.1f} GB free for {place}"))
    return out


def report(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"{f.level:<8} {f.topic:<12} {f.text}")
        if f.fix and f.level != OK:
            lines.append(f"{'':<21} -> {f.fix}")
    problems = sum(f.level == PROBLEM for f in findings)
    warnings = sum(f.level == WARN for f in findings)
    lines.append(f"{problems} problem(s), {warnings} warning(s)")
    return "\n".join(lines)
