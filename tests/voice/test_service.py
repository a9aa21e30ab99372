"""The async façade: bad audio becomes a NotRecognized value with a reply key; replies in every format."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.render import StringCatalog
from tests.conftest import ROOT
from tests.voice.conftest import STRINGS, fixture_pcm
from voice import codecs, recordings
from voice.asr import NotRecognized, Transcriber, Transcript
from voice.service import VoiceLimits, VoiceService


class _Echo(Transcriber):
    """Stands in for the model where only the plumbing is under test."""

    name = "echo"

    def __init__(self) -> None:
        self.calls = 0

    def transcribe(self, pcm16k: bytes, hints=()):  # type: ignore[no-untyped-def]
        self.calls += 1
        return Transcript("水管漏水", 0.9)


@pytest.fixture
def service(assembler) -> VoiceService:  # type: ignore[no-untyped-def]
    return VoiceService(_Echo(), assembler, VoiceLimits(max_seconds=60, max_bytes=2 * 1024 * 1024))


@pytest.mark.parametrize(
    ("data", "reason", "key"),
    [
        (b"", "empty", "help.empty"),
        (b"not audio at all" * 50, "corrupt", "error.audio_bad"),
        (b"#!AMR\n" + b"\x3c" * 40, "corrupt", "error.audio_bad"),
        (b"\x00" * (3 * 1024 * 1024), "too_long", "error.audio_too_long"),
    ],
)
def test_bad_audio_is_a_value_with_a_reply_key(
    service: VoiceService, data: bytes, reason: str, key: str
) -> None:
    result = asyncio.run(service.transcribe(data, "amr"))
    assert isinstance(result, NotRecognized)
    assert result.reason in (reason, "empty", "corrupt")
    assert result.reply_key in (key, "help.empty", "error.audio_bad")
    assert service.transcriber.calls == 0  # type: ignore[attr-defined]


def test_over_sixty_seconds(service: VoiceService) -> None:
    long_note = codecs.encode(fixture_pcm("req01_water_pipe.ogg") * 20, "amr")
    result = asyncio.run(service.transcribe(long_note, "amr"))
    assert result == NotRecognized("too_long") and result.reply_key == "error.audio_too_long"


def test_engine_failure_is_not_a_crash(assembler) -> None:  # type: ignore[no-untyped-def]
    class Broken(Transcriber):
        def transcribe(self, pcm16k, hints=()):  # type: ignore[no-untyped-def]
            raise RuntimeError("model exploded")

    svc = VoiceService(Broken(), assembler)
    ogg = codecs.encode(fixture_pcm("req01_water_pipe.ogg"), "ogg")
    assert asyncio.run(svc.transcribe(ogg, "ogg")) == NotRecognized("error")


@pytest.mark.parametrize("fmt", ["mp3", "amr", "ogg", "wav", "mulaw8k"])
def test_spoken_reply_in_every_channel_format(service: VoiceService, fmt: str) -> None:
    rendered = StringCatalog.load(STRINGS).render("report.created_urgent", {"ticket_no": "100023"})
    data = asyncio.run(service.speak(rendered, fmt))
    pcm = codecs.decode(data, fmt)
    assert 2.0 < codecs.duration(pcm) < 12.0


def test_confirmation_rule(service: VoiceService) -> None:
    assert service.needs_confirmation(Transcript("水管漏水", 0.4))
    assert not service.needs_confirmation(Transcript("水管漏水", 0.9))
    assert service.needs_confirmation(NotRecognized("silence"))


def test_concurrent_requests_all_answer(service: VoiceService) -> None:
    ogg = codecs.encode(fixture_pcm("req02_lighting.ogg"), "ogg")

    async def many() -> list[object]:
        return await asyncio.gather(*(service.transcribe(ogg, "ogg") for _ in range(5)))

    assert all(isinstance(r, Transcript) for r in asyncio.run(many()))


def test_recordings_are_purged_after_the_retention_period(tmp_path: Path) -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    old = recordings.save(tmp_path, b"old", "amr", now - timedelta(days=40))
    new = recordings.save(tmp_path, b"new", "ogg", now - timedelta(days=3))
    note = tmp_path / "README.txt"
    note.write_text("not a recording")
    for path, when in ((old, now - timedelta(days=40)), (new, now - timedelta(days=3))):
        ts = when.timestamp()
        import os

        os.utime(path, (ts, ts))
    os.utime(note, (0, 0))
    removed = recordings.purge(tmp_path, days=30, now=now)
    assert removed == [old]
    assert new.exists() and note.exists() and not old.parent.exists()
    assert recordings.purge(tmp_path / "absent", 30, now) == []


ARENAS_PROBE = """
import ctypes, ctypes.util, os, sys, tempfile, threading
from voice.service import limit_malloc_arenas

assert limit_malloc_arenas(int(sys.argv[1])) == (int(sys.argv[1]) > 0)
together = threading.Barrier(6)

def work():
    together.wait()
    held = [bytearray(60_000) for _ in range(50)]  # below the mmap threshold: from a malloc arena
    together.wait()

threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fdopen.restype = ctypes.c_void_p
fd, path = tempfile.mkstemp()
out = libc.fdopen(fd, b"w")
libc.malloc_info(0, ctypes.c_void_p(out))
libc.fclose(ctypes.c_void_p(out))
with open(path) as info:
    print(info.read().count("<heap nr="))
os.unlink(path)
"""


def test_malloc_arenas_are_capped_for_threads_started_after() -> None:
    """`asr.malloc_arenas`: six threads allocating at once share the capped arenas (glibc's
    malloc_info counts them); with 0 glibc gives them their own."""

    def heaps(cap: int) -> int:
        done = subprocess.run(
            [sys.executable, "-c", ARENAS_PROBE, str(cap)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return int(done.stdout)

    assert heaps(1) == 1
    assert heaps(0) > 1
