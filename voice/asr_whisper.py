"""faster-whisper backend: Whisper base (CTranslate2, int8) decoding Mandarin offline.

Whisper invents text on silence and loops on hesitations, so we gate it with a VAD first,
cap the output length by the audio length, drop segments the model itself marks as non-speech
or repetitive, and refuse filler-only results.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel
from opencc import OpenCC

from voice.asr import NotRecognized, Recognition, Segment, Transcriber, Transcript, is_filler, strip_punct
from voice.vad import speech_span
from voice.vocabulary import initial_prompt

# Phrases Whisper hallucinates from subtitle training data.
HALLUCINATIONS = (
    "字幕",
    "订阅",
    "点赞",
    "打赏",
    "谢谢观看",
    "感谢观看",
    "明镜",
    "独播",
    "请不吝",
    "由 Amara",
)
_ASCII_PUNCT = str.maketrans({",": "，", "?": "？", "!": "！", ";": "；", ":": "："})
_REPEAT = re.compile(r"(.{1,4}?)\1{3,}")  # the same 1-4 characters four or more times in a row


class WhisperTranscriber(Transcriber):
    name = "whisper"
    offline = True

    def __init__(
        self,
        model_dir: Path,
        vocabulary: tuple[str, ...] = (),
        compute_type: str = "int8",
        threads: int = 2,
        beam_size: int = 1,
    ) -> None:
        self.model = WhisperModel(
            str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=threads, num_workers=1
        )
        self.vocabulary = vocabulary
        self.beam_size = beam_size
        self._t2s = OpenCC("t2s")

    def transcribe(self, pcm16k: bytes, hints: Sequence[str] = ()) -> Recognition:
        span = speech_span(pcm16k)
        if span is None:
            return NotRecognized("silence")
        audio = np.frombuffer(pcm16k[span[0] : span[1]], dtype="<i2").astype(np.float32) / 32768.0
        seconds = audio.size / 16000
        segments, _info = self.model.transcribe(
            audio,
            language="zh",
            task="transcribe",
            beam_size=self.beam_size,
            temperature=0.0,
            initial_prompt=initial_prompt(self.vocabulary, tuple(hints)),
            condition_on_previous_text=False,
            without_timestamps=True,
            max_new_tokens=min(440, int(seconds * 10) + 12),
            vad_filter=False,
        )
        kept: list[Segment] = []
        for seg in segments:
            text = self._clean(seg.text)
            if not text or _is_hallucination(
                text, seg.no_speech_prob, seg.avg_logprob, seg.compression_ratio
            ):
                continue
            conf = math.exp(seg.avg_logprob) * (1.0 - 0.5 * seg.no_speech_prob)
            kept.append(Segment(span[0] / 32000 + seg.start, span[0] / 32000 + seg.end, text, round(conf, 3)))
        text = "".join(s.text for s in kept).strip()
        if not strip_punct(text):
            return NotRecognized("no_text")
        if is_filler(text):
            return NotRecognized("filler")
        weights = [max(1, len(s.text)) for s in kept]
        confidence = sum(s.confidence * w for s, w in zip(kept, weights, strict=True)) / sum(weights)
        return Transcript(text, round(confidence, 3), tuple(kept))

    def _clean(self, text: str) -> str:
        text = self._t2s.convert(text.strip()).translate(_ASCII_PUNCT)
        text = re.sub(r"(?<=[\u4e00-\u9fff])\.(?=$|[\u4e00-\u9fff])", "。", text)
        return _REPEAT.sub(r"\1", text)


def _is_hallucination(text: str, no_speech_prob: float, avg_logprob: float, compression_ratio: float) -> bool:
    """Whisper's own signals: likely non-speech, unsure, or looping; plus known subtitle phrases."""
    if no_speech_prob > 0.6 and avg_logprob < -0.6:
        return True
    if compression_ratio > 2.4 or avg_logprob < -1.2:
        return True
    return any(h in text for h in HALLUCINATIONS)
