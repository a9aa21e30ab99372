"""The call as the flow sees it: one prompt out, then a key, an utterance or silence back.

Audio here is always 8 kHz mono s16 LE PCM (the phone's own rate); backends convert at the edge.
A hang-up at any point raises `HungUp`, so the flow simply stops where it is.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from voice.asr import Recognition

RATE = 8000
FRAME_MS = 20
FRAME_BYTES = RATE * FRAME_MS // 1000 * 2  # 320
KEYS = "0123456789*#"


@dataclass(frozen=True)
class Digit:
    """The caller pressed a key (RFC 2833 / SIP INFO / Asterisk DTMF)."""

    key: str


@dataclass(frozen=True)
class Speech:
    """One utterance, cut by end-of-speech detection; `voice_end` is when the caller stopped talking."""

    pcm: bytes
    voice_end: float = 0.0  # time.monotonic() of the last voiced frame
    barged_in: bool = False  # the caller started speaking during the prompt
    barged_at_s: float = 0.0  # ... this far into it (seconds of the prompt already played)
    # Recognition already started on this utterance during the end-of-speech wait (see `Recognizer`).
    early: asyncio.Future[Recognition] | None = field(default=None, compare=False)
    hung_up: bool = False  # the caller hung up while speaking (only with keep_on_hangup)


@dataclass(frozen=True)
class NoInput:
    """Nothing was said or pressed within the no-input time."""


Heard = Digit | Speech | NoInput


class HungUp(Exception):
    """The caller hung up (or the line dropped)."""


@dataclass
class CallTimings:
    """What the bench reads: caller's end of speech → first audio of the reply, in seconds."""

    reply_latencies: list[float] = field(default_factory=list)
    pending_voice_end: float | None = None
    early_kept: int = 0  # recognitions started at a pause and used
    early_dropped: int = 0  # ... and thrown away because the caller went on talking


# Starts recognizing an utterance; `ask` calls it once the caller has paused for `early_ms`, so the
# text is (nearly) ready when the end-of-speech wait runs out. A pause that ends in more speech
# abandons the result.
Recognizer = Callable[[bytes], Awaitable[Recognition]]


class CallChannel(ABC):
    """One live call. `ask` and `say` raise HungUp when the caller is gone."""

    caller: str = ""  # the caller's number (digits), "" when withheld
    call_id: str = ""
    timings: CallTimings

    @abstractmethod
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
        """Play `prompt` (a key, or speech when allowed, interrupts it), then wait for an answer.

        With `early`, recognition may start before the end-of-speech wait is over (`Speech.early`).
        With `keep_on_hangup`, a caller who hangs up while speaking is returned as
        `Speech(hung_up=True)` instead of raising `HungUp` (a message left by hanging up).
        `end_silence_ms` overrides the pause that ends an answer (longer for a recorded message).
        With `keep_buffered`, what the caller said while we were thinking is heard too (they may be
        going on after a pause); otherwise it is dropped."""

    @abstractmethod
    async def say(self, prompt: bytes) -> Digit | None:
        """Play `prompt` to its end unless a key interrupts it."""

    @abstractmethod
    async def transfer(self, target: str) -> bool:
        """Hand the caller to `target` (SIP REFER or the switch's own transfer); False if it failed."""

    @abstractmethod
    async def hangup(self) -> None:
        """End the call from our side (idempotent)."""
