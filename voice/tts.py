"""Speech synthesis: one ABC, one file per backend. Output is always 16 kHz mono s16 PCM."""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

RATE = 16000


@dataclass(frozen=True)
class Audio:
    pcm: bytes  # mono s16 LE
    rate: int = RATE

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.rate


class Synthesizer(ABC):
    """Text → speech."""

    name: str = "?"
    offline: bool = True

    @abstractmethod
    def synthesize(self, text: str) -> Audio:
        """Speak text slowly and clearly; raises SynthesisError only when no audio can be made."""


def silence(ms: int, rate: int = RATE) -> bytes:
    return b"\x00\x00" * (rate * ms // 1000)


def trim(pcm: bytes, rate: int = RATE, threshold: float = 300.0, keep_ms: int = 30) -> bytes:
    """Cut leading and trailing near-silence, keeping a few milliseconds of room."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > threshold)[0]
    if loud.size == 0:
        return b""
    keep = rate * keep_ms // 1000
    start, end = max(0, int(loud[0]) - keep), min(samples.size, int(loud[-1]) + keep)
    return samples[start:end].tobytes()


def normalize_level(pcm: bytes, peak: float = 0.7) -> bytes:
    """Scale so the loudest sample reaches `peak` of full scale (prompts and live speech match)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32)
    top = float(np.max(np.abs(samples))) if samples.size else 0.0
    if top < 1.0:
        return pcm
    return np.clip(samples * (peak * 32767.0 / top), -32768, 32767).astype("<i2").tobytes()


def load_synthesizer(
    backend: str, *, espeak_voice: str = "cmn", espeak_speed: int = 130, gtts_timeout: float = 5.0
) -> Synthesizer:
    """Build a live synthesizer: "espeak" (offline) or "gtts" (online, falls back to espeak)."""
    from voice.tts_espeak import EspeakSynthesizer

    offline = EspeakSynthesizer(voice=espeak_voice, speed=espeak_speed)
    if backend == "espeak":
        return offline
    if backend == "gtts":
        from voice.tts_gtts import GttsSynthesizer

        return GttsSynthesizer(fallback=offline, timeout=gtts_timeout)
    raise ValueError(f"unknown tts backend {backend!r} (espeak | gtts)")


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None
