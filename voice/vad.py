"""Voice activity: is there speech in a clip, where, and (for calls) when did the caller stop talking.

WebRTC's VAD classifies 10/20/30 ms frames at 8/16 kHz; an energy floor keeps line hiss and
near-silent noise from counting as speech.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import webrtcvad

ENERGY_FLOOR = 120.0  # RMS of s16 samples below which a frame is silence whatever the VAD says


def _rms(frame: bytes) -> float:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0


def speech_frames(pcm: bytes, rate: int = 16000, frame_ms: int = 30, aggressiveness: int = 2) -> list[bool]:
    """Per-frame speech flags for mono s16 PCM."""
    vad = webrtcvad.Vad(aggressiveness)
    size = rate * frame_ms // 1000 * 2
    flags = []
    for pos in range(0, len(pcm) - size + 1, size):
        frame = pcm[pos : pos + size]
        flags.append(_rms(frame) >= ENERGY_FLOOR and vad.is_speech(frame, rate))
    return flags


def speech_span(
    pcm: bytes, rate: int = 16000, min_speech_ms: int = 150, pad_ms: int = 200
) -> tuple[int, int] | None:
    """Byte range holding the speech (with padding), or None when the clip is silent."""
    frame_ms = 30
    flags = speech_frames(pcm, rate, frame_ms)
    # Require a run of voiced frames so that clicks and single noisy frames do not count.
    need = max(1, min_speech_ms // frame_ms)
    run, voiced = 0, []
    for i, flag in enumerate(flags):
        run = run + 1 if flag else 0
        if run >= need:
            voiced.append(i)
    if not voiced:
        return None
    first = voiced[0] - need + 1
    last = max(i for i, f in enumerate(flags) if f)
    size = rate * frame_ms // 1000 * 2
    pad = rate * pad_ms // 1000 * 2
    return max(0, first * size - pad), min(len(pcm), (last + 1) * size + pad)


def has_speech(pcm: bytes, rate: int = 16000, min_speech_ms: int = 150) -> bool:
    """True when the clip holds at least min_speech_ms of continuous speech."""
    return speech_span(pcm, rate, min_speech_ms) is not None


EventKind = Literal["speech_start", "speech_end", "no_input", "max_length"]


@dataclass(frozen=True)
class VadEvent:
    kind: EventKind
    audio: bytes = b""  # for speech_end / max_length: the utterance with a little lead-in
    at_ms: int = 0


@dataclass
class EndpointDetector:
    """Turn a stream of fixed-size frames (20 ms at 8 kHz by default) into speech start/end events.

    speech_start fires after `start_ms` of voiced frames (use it for barge-in); speech_end after
    `end_silence_ms` of silence following speech; no_input when nothing was said for `no_input_ms`;
    max_length stops a caller who never pauses.
    """

    rate: int = 8000
    frame_ms: int = 20
    aggressiveness: int = 2
    start_ms: int = 120
    end_silence_ms: int = 700
    no_input_ms: int = 6000
    max_speech_ms: int = 30000
    preroll_ms: int = 300
    _vad: webrtcvad.Vad = field(init=False, repr=False)
    _pre: deque[bytes] = field(init=False, repr=False)
    _utterance: bytearray = field(init=False, repr=False)
    _in_speech: bool = field(default=False, init=False)
    _voiced: int = field(default=0, init=False)
    _silent: int = field(default=0, init=False)
    _elapsed: int = field(default=0, init=False)
    _done: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.frame_ms not in (10, 20, 30) or self.rate not in (8000, 16000, 32000, 48000):
            raise ValueError("frames must be 10/20/30 ms at 8/16/32/48 kHz")
        self._vad = webrtcvad.Vad(self.aggressiveness)
        self.reset()

    @property
    def frame_bytes(self) -> int:
        return self.rate * self.frame_ms // 1000 * 2

    @property
    def in_speech(self) -> bool:
        return self._in_speech and not self._done

    @property
    def trailing_silence_ms(self) -> int:
        """How long the caller has been silent since they last spoke (0 while speaking)."""
        return self._silent * self.frame_ms if self._in_speech else 0

    @property
    def utterance(self) -> bytes:
        """The utterance so far (with its lead-in), as speech_end would return it now."""
        return bytes(self._utterance)

    def reset(self) -> None:
        """Start listening for a new utterance."""
        self._pre = deque(maxlen=max(1, (self.preroll_ms + self.start_ms) // self.frame_ms))
        self._utterance = bytearray()
        self._in_speech = self._done = False
        self._voiced = self._silent = self._elapsed = 0

    def feed(self, frame: bytes) -> VadEvent | None:
        """Feed one frame of s16 PCM; returns an event when something happens."""
        if self._done:
            return None
        if len(frame) != self.frame_bytes:
            raise ValueError(f"expected {self.frame_bytes} bytes per frame, got {len(frame)}")
        self._elapsed += self.frame_ms
        voiced = _rms(frame) >= ENERGY_FLOOR and self._vad.is_speech(frame, self.rate)
        if not self._in_speech:
            self._pre.append(frame)
            self._voiced = self._voiced + 1 if voiced else 0
            if self._voiced * self.frame_ms >= self.start_ms:
                self._in_speech = True
                self._utterance = bytearray(b"".join(self._pre))
                return VadEvent("speech_start", at_ms=self._elapsed)
            if self._elapsed >= self.no_input_ms:
                self._done = True
                return VadEvent("no_input", at_ms=self._elapsed)
            return None
        self._utterance += frame
        self._silent = 0 if voiced else self._silent + 1
        if self._silent * self.frame_ms >= self.end_silence_ms:
            self._done = True
            return VadEvent("speech_end", bytes(self._utterance), self._elapsed)
        if len(self._utterance) // (self.rate * 2 // 1000) >= self.max_speech_ms:
            self._done = True
            return VadEvent("max_length", bytes(self._utterance), self._elapsed)
        return None
