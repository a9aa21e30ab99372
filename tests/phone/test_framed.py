"""The framed channel on in-memory audio: early recognition during the end-of-speech wait, and a
message kept when the caller hangs up while speaking. Real VAD, real speech, real recognizer."""

from __future__ import annotations

import asyncio

import pytest

from tests.phone.test_agi import fixture_pcm8k
from voice import codecs
from voice.telephony.call import FRAME_BYTES, HungUp, Speech
from voice.telephony.framed import FramedChannel

SILENCE_1S = b"\x00\x00" * 8000


class MemoryLine(FramedChannel):
    """A caller whose audio is a fixed recording, delivered 100 ms per tick; hangs up at its end
    when `hang_up_at_end`."""

    def __init__(self, caller_audio: bytes, *, hang_up_at_end: bool = False) -> None:
        super().__init__("13800000502", "mem-1", end_silence_ms=600, early_ms=250)
        self.audio = caller_audio
        self.pos = 0
        self.hang_up_at_end = hang_up_at_end
        self.sent = bytearray()

    def _read(self) -> bytes:
        chunk = self.audio[self.pos : self.pos + FRAME_BYTES * 5]
        self.pos += len(chunk)
        return chunk

    def _write(self, pcm: bytes) -> int:
        self.sent += pcm
        return len(pcm)

    def _queued(self) -> int:
        return 0

    def _flush(self) -> None:
        pass

    def _closed(self) -> bool:
        return self.hang_up_at_end and self.pos >= len(self.audio)

    def _drain(self) -> None:  # the recording is what the caller says after the prompt
        pass

    async def transfer(self, target: str) -> bool:
        return False

    async def hangup(self) -> None:
        pass


def _asr(voice_service):  # type: ignore[no-untyped-def]
    calls: list[bytes] = []

    async def recognize(pcm8k: bytes):  # type: ignore[no-untyped-def]
        calls.append(pcm8k)
        return await voice_service.transcribe(codecs.resample(pcm8k, 8000, 16000), "pcm16k")

    return calls, recognize


@pytest.mark.slow
def test_recognition_starts_at_the_pause_and_hears_what_the_final_utterance_holds(voice_service) -> None:
    request = fixture_pcm8k("req01_water_pipe.ogg")
    ch = MemoryLine(request + SILENCE_1S)
    calls, recognize = _asr(voice_service)

    async def go() -> tuple[Speech, object, object]:
        heard = await ch.ask(b"", early=recognize)
        assert isinstance(heard, Speech) and heard.early is not None
        early = await heard.early
        full = await recognize(heard.pcm)
        return heard, early, full

    heard, early, full = asyncio.run(go())
    assert ch.timings.early_kept == 1 and ch.timings.early_dropped == 0
    guessed = calls[0]
    assert heard.pcm.startswith(guessed) and len(heard.pcm) - len(guessed) <= 8000 * 2 * 0.4
    assert "水管" in early.text  # type: ignore[attr-defined]
    assert early.text == full.text  # type: ignore[attr-defined]  # the trailing silence changes nothing


@pytest.mark.slow
def test_a_pause_followed_by_more_speech_drops_the_early_guess(voice_service) -> None:
    first = fixture_pcm8k("req01_water_pipe.ogg")[: 16000 * 17 // 10]  # its first phrase ends at 1.6 s
    pause = (
        b"\x00\x00" * 2400
    )  # 300 ms (+ 100 + the next clip's 70 ms): past the early point, short of the end
    second = fixture_pcm8k("req02_lighting.ogg")
    ch = MemoryLine(first + pause + second + SILENCE_1S)
    calls, recognize = _asr(voice_service)

    async def go() -> Speech:
        heard = await ch.ask(b"", early=recognize)
        assert isinstance(heard, Speech) and heard.early is not None
        await heard.early
        return heard

    heard = asyncio.run(go())
    assert ch.timings.early_dropped >= 1 and ch.timings.early_kept == 1
    assert len(calls[-1]) > len(first) + len(second) // 2  # the kept guess heard both parts
    assert heard.pcm.startswith(calls[-1])


def test_caller_hanging_up_while_speaking_leaves_the_utterance_when_asked_to_keep_it() -> None:
    # Hung up 0.3 s after finishing (the clip's own pause at 1.6-2.5 s does not end a message).
    request = fixture_pcm8k("req01_water_pipe.ogg")[: 16000 * 45 // 10]
    heard = asyncio.run(
        MemoryLine(request, hang_up_at_end=True).ask(b"", keep_on_hangup=True, end_silence_ms=2500)
    )
    assert isinstance(heard, Speech) and heard.hung_up
    assert len(heard.pcm) > 16000 * 4

    with pytest.raises(HungUp):
        asyncio.run(MemoryLine(request, hang_up_at_end=True).ask(b"", end_silence_ms=2500))


@pytest.mark.slow
def test_early_guesses_only_when_a_recognition_slot_is_free(voice_service) -> None:
    import threading
    import time

    from tests.phone.test_agi import FIXTURES

    ogg = (FIXTURES / "req02_lighting.ogg").read_bytes()
    assert voice_service.has_spare_capacity
    workers = [threading.Thread(target=voice_service.recognize, args=(ogg, "ogg")) for _ in range(3)]
    for w in workers:
        w.start()
    deadline, busy = time.monotonic() + 10, False
    while time.monotonic() < deadline and not busy:
        busy = not voice_service.has_spare_capacity
        time.sleep(0.005)
    for w in workers:
        w.join(60)
    assert busy  # three at once on two slots: no room for a guess
    assert voice_service.has_spare_capacity


class BufferedLine(MemoryLine):
    """The caller's audio is already waiting when the prompt starts (said while we were thinking), and
    is read a second at a time as from baresip."""

    def _read(self) -> bytes:
        chunk = self.audio[self.pos : self.pos + FRAME_BYTES * 50]
        self.pos += len(chunk)
        return chunk

    def _drain(self) -> None:
        FramedChannel._drain(self)


def test_speech_said_while_we_were_thinking_is_heard_only_when_asked_to_keep_it() -> None:
    request = fixture_pcm8k("req02_lighting.ogg")
    prompt = b"\x00\x01" * 8000 * 3
    heard = asyncio.run(BufferedLine(request + SILENCE_1S).ask(prompt, keep_buffered=True))
    assert isinstance(heard, Speech) and heard.barged_in and heard.barged_at_s < 0.5
    assert len(heard.pcm) > 16000 * 3

    dropped = asyncio.run(BufferedLine(request + SILENCE_1S).ask(prompt, no_input_s=0.5))
    assert not isinstance(dropped, Speech)
