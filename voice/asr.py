"""Speech recognition: one message type per outcome, one ABC, one file per backend.

`Transcriber.transcribe` takes 16 kHz mono s16 LE PCM and returns a `Transcript` or a
`NotRecognized` value; it never raises for bad audio. Models load once, in `load_transcriber`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import ModelMissing


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    confidence: float


@dataclass(frozen=True)
class Hypothesis:
    """Another reading of the same audio (n-best), with its average log-probability per token."""

    text: str
    logprob: float


@dataclass(frozen=True)
class Transcript:
    text: str
    confidence: float  # 0..1; below asr.min_confidence the dialogue reads the request back
    segments: tuple[Segment, ...] = ()
    # The recognizer's other readings, best first (not including `text`); understanding may prefer one.
    alternatives: tuple[Hypothesis, ...] = ()
    logprob: float | None = None  # `text`'s average log-probability per token, comparable with alternatives


def relative_alternatives(result: Transcript) -> tuple[tuple[str, float], ...]:
    """The other readings as (text, log-probability per token minus the first reading's), as
    core.messages.Inbound.asr_alternatives carries them; () when the recognizer gave none."""
    if result.logprob is None:
        return ()
    return tuple((h.text, round(min(0.0, h.logprob - result.logprob), 4)) for h in result.alternatives)


@dataclass(frozen=True)
class NotRecognized:
    reason: str  # silence | filler | no_text | empty | too_long | corrupt | error | busy

    @property
    def reply_key(self) -> str:
        keys = {"too_long": "error.audio_too_long", "empty": "help.empty", "busy": "guard.busy"}
        return keys.get(self.reason, "error.audio_bad")


Recognition = Transcript | NotRecognized


class Transcriber(ABC):
    """A loaded speech recognizer."""

    name: str = "?"
    offline: bool = True

    @abstractmethod
    def transcribe(self, pcm16k: bytes, hints: Sequence[str] = ()) -> Recognition:
        """Recognize 16 kHz mono s16 LE PCM; hints are words the dialogue expects right now."""

    def transcribe_narrowband(self, pcm16k: bytes, hints: Sequence[str] = ()) -> Recognition:
        """The same for audio that was 8 kHz (the phone line); backends may decode it differently."""
        return self.transcribe(pcm16k, hints)


# Interjections and hesitations: speech made only of these creates nothing.
FILLERS = set("哦噢喔嗯恩唔啊阿呃额诶欸哎唉呀吖哈嘿呵哼嗨嘛呢吧啦了么哇喂")
_PUNCT = re.compile(r"[\s\.,!?;:，。！？、；：…~～\-—\"'“”‘’()（）《》【】\[\]]+")


def strip_punct(text: str) -> str:
    return _PUNCT.sub("", text)


def is_filler(text: str) -> bool:
    """True when the text has no content beyond hesitation sounds."""
    core = strip_punct(text)
    return not core or all(ch in FILLERS for ch in core)


def load_transcriber(
    backend: str,
    model_dir: str | Path,
    *,
    vocabulary: Sequence[str] = (),
    compute_type: str = "int8",
    threads: int = 2,
    beam_size: int = 1,
    narrowband_beam_size: int = 1,
    nbest: int = 1,
    workers: int = 1,
    full_window: bool = False,
    loop_penalty: float = 1.0,
) -> Transcriber:
    """Load the configured backend once ("whisper" or "vosk"); raises ModelMissing if absent."""
    model_path = Path(model_dir)
    if not model_path.is_dir():
        hint = "make install" if backend == "whisper" else "make models"
        raise ModelMissing(f"{backend} model not found in {model_path}: run `{hint}`")
    if backend == "whisper":
        from voice.asr_whisper import WhisperTranscriber

        return WhisperTranscriber(
            model_path,
            tuple(vocabulary),
            compute_type,
            threads,
            beam_size,
            narrowband_beam_size,
            nbest,
            workers,
            full_window,
            loop_penalty,
        )
    if backend == "vosk":
        from voice.asr_vosk import VoskTranscriber

        return VoskTranscriber(model_path, tuple(vocabulary))
    raise ValueError(f"unknown asr backend {backend!r} (whisper | vosk)")
