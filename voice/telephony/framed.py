"""`CallChannel` over raw frames: pace the prompt out, run end-of-speech detection on what comes in.

A backend supplies four small operations (read what arrived, write what fits, flush, closed?) and
pushes keys with `press`. Everything runs on the event loop in 20 ms ticks; recognition and the
engine run elsewhere (threads), so one slow turn never stalls another call's audio.
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from collections.abc import Awaitable

from voice.asr import Recognition
from voice.telephony.call import (
    FRAME_BYTES,
    FRAME_MS,
    KEYS,
    RATE,
    CallChannel,
    CallTimings,
    Digit,
    Heard,
    HungUp,
    NoInput,
    Recognizer,
    Speech,
)
from voice.vad import EndpointDetector, speech_frames

TICK = FRAME_MS / 1000
LEAD_BYTES = FRAME_BYTES * 8  # keep ~160 ms queued ahead of the wire: enough to ride out a slow tick
# Audio this long after a key is not speech: the key's tone, or the tail of what the caller was saying
# as they pressed (it reaches us late), would otherwise "barge in" on the very prompt the key asked for.
KEY_GUARD_S = 1.0


class FramedChannel(CallChannel):
    """Prompts, barge-in and end-of-speech on 8 kHz frames; subclasses move the bytes."""

    def __init__(
        self,
        caller: str,
        call_id: str,
        *,
        end_silence_ms: int = 600,
        early_ms: int = 250,
        barge_in_ms: int = 200,
    ) -> None:
        self.caller = caller
        self.call_id = call_id
        self.timings = CallTimings()
        self.end_silence_ms = end_silence_ms
        self.early_ms = early_ms
        self.barge_in_ms = barge_in_ms
        self._keys: asyncio.Queue[str] = asyncio.Queue()
        self._rx = bytearray()
        self._key_at = 0.0

    # -- what a backend provides ------------------------------------------------------------------
    @abstractmethod
    def _read(self) -> bytes:
        """Whatever caller audio arrived since the last call (may be b"")."""

    @abstractmethod
    def _write(self, pcm: bytes) -> int:
        """Queue audio for the caller; returns the bytes taken."""

    @abstractmethod
    def _queued(self) -> int:
        """Bytes written but not yet sent."""

    @abstractmethod
    def _flush(self) -> None:
        """Drop queued audio (barge-in)."""

    @abstractmethod
    def _closed(self) -> bool:
        """True once the call is gone."""

    def press(self, key: str) -> None:
        """A key from the caller (called on the event loop by the backend)."""
        if key in KEYS:
            self._key_at = time.monotonic()
            self._keys.put_nowait(key)

    # -- CallChannel --------------------------------------------------------------------------------
    async def ask(
        self,
        prompt: bytes,
        *,
        speech: bool = True,
        no_input_s: float = 6.0,
        max_speech_s: float = 20.0,
        early: Recognizer | None = None,
        keep_on_hangup: bool = False,
        end_silence_ms: int | None = None,
        keep_buffered: bool = False,
    ) -> Heard:
        detector = EndpointDetector(
            rate=8000,
            frame_ms=FRAME_MS,
            start_ms=self.barge_in_ms,
            end_silence_ms=end_silence_ms or self.end_silence_ms,
            no_input_ms=10**9,
            max_speech_ms=int(max_speech_s * 1000),
        )
        if not keep_buffered:
            self._drain()  # what was said while we were thinking is not an answer to this prompt
        pos, barged, heard_voice, deadline = 0, False, False, None
        last_voiced, barged_at = 0.0, 0.0
        guess: asyncio.Future[Recognition] | None = None  # recognition started at a pause
        while True:
            if keep_on_hangup and detector.in_speech and self._closed():
                return Speech(detector.utterance, last_voiced, barged, barged_at, hung_up=True)
            self._check_open()
            if not self._keys.empty():
                self._stop_prompt(pos < len(prompt))
                return Digit(self._keys.get_nowait())
            if pos < len(prompt) and not barged:
                pos = self._pace(prompt, pos)
            elif deadline is None:
                deadline = time.monotonic() + no_input_s + self._queued() / (2 * 8000)
            frames = self._take_frames()
            if time.monotonic() - self._key_at < KEY_GUARD_S:
                frames = []
            for frame in frames:
                event = detector.feed(frame) if speech else None
                if speech and heard_voice and speech_frames(frame, 8000, FRAME_MS)[0]:
                    last_voiced = time.monotonic()
                if early is not None and event is None and detector.in_speech:
                    silent = detector.trailing_silence_ms
                    if silent == 0 and guess is not None:
                        guess.cancel()  # still queued: it leaves the recognizer's queue undecoded
                        guess = None  # they went on talking: that guess is for a shorter utterance
                        self.timings.early_dropped += 1
                    elif guess is None and silent >= self.early_ms:
                        guess = _started(early(detector.utterance))
                if event is None:
                    continue
                if event.kind == "speech_start":
                    heard_voice, last_voiced = True, time.monotonic()
                    if pos < len(prompt) and not barged:
                        barged, barged_at = True, max(0, pos - self._queued()) / (2 * RATE)
                        self._stop_prompt(True)
                elif event.kind in ("speech_end", "max_length"):
                    self.timings.pending_voice_end = last_voiced or time.monotonic()
                    # The guess heard the same speech: only silence came after it.
                    kept = guess if event.kind == "speech_end" else None
                    self.timings.early_kept += kept is not None
                    self.timings.early_dropped += guess is not None and kept is None
                    if guess is not None and kept is None:
                        guess.cancel()
                    return Speech(event.audio, last_voiced, barged, barged_at, early=kept)
            if deadline is not None and not heard_voice and time.monotonic() >= deadline:
                return NoInput()
            await asyncio.sleep(TICK)

    async def say(self, prompt: bytes) -> Digit | None:
        pos = 0
        while pos < len(prompt) or self._queued() > 0:
            self._check_open()
            if not self._keys.empty():
                self._stop_prompt(True)
                return Digit(self._keys.get_nowait())
            if pos < len(prompt):
                pos = self._pace(prompt, pos)
            self._take_frames()
            await asyncio.sleep(TICK)
        return None

    # -- helpers ------------------------------------------------------------------------------------
    def _pace(self, prompt: bytes, pos: int) -> int:
        room = LEAD_BYTES - self._queued()
        if room >= FRAME_BYTES:
            chunk = prompt[pos : pos + room // FRAME_BYTES * FRAME_BYTES]
            if pos == 0 and self.timings.pending_voice_end is not None:
                self.timings.reply_latencies.append(time.monotonic() - self.timings.pending_voice_end)
                self.timings.pending_voice_end = None
            pos += self._write(chunk)
        return pos

    def _stop_prompt(self, playing: bool) -> None:
        if playing:
            self._flush()

    def _take_frames(self) -> list[bytes]:
        self._rx += self._read()
        n = len(self._rx) // FRAME_BYTES
        frames = [bytes(self._rx[i * FRAME_BYTES : (i + 1) * FRAME_BYTES]) for i in range(n)]
        del self._rx[: n * FRAME_BYTES]
        return frames

    def _drain(self) -> None:
        """Drop everything received so far (a backend may hand it out a second's worth at a time)."""
        for _ in range(1000):
            if not self._read():
                break
        self._rx.clear()

    def _check_open(self) -> None:
        if self._closed():
            raise HungUp(self.call_id)


def _started(work: Awaitable[Recognition]) -> asyncio.Future[Recognition]:
    """Run a guess in the background; an abandoned one must not log "exception never retrieved"."""
    future = asyncio.ensure_future(work)
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future
