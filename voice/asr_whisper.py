"""faster-whisper backend: Whisper base (CTranslate2, int8) decoding Mandarin offline.

Speed: Whisper always encodes a 30 s window, which costs ~1.2 s on two cores whatever the clip
length. CTranslate2 accepts a shorter window, so phone audio up to SHORT_MAX_S is encoded with its
speech plus PAD_S of silence (measured here: ~2.4x faster, same or better CER on requests; less
padding than 10 s made Whisper loop). Voice notes (16 kHz) are decoded as Whisper was trained, in the
full 30 s window with timestamp tokens (`full_window`), which reads real spontaneous speech better
(voice/evalsets/README.md); when the queue is long they fall back to the phone's short window
(`ShortJob.hurried`). Longer clips use faster-whisper's normal 30 s windows.

Hallucinations: Whisper invents text on silence and loops on hesitations, so a VAD gates it, the
output length is capped by the audio length, and segments the model itself marks as non-speech,
unsure or repetitive are dropped; filler-only results are refused. A reading that loops
(「…粮粽 粮粽 粮粽」) is decoded once more with a repetition penalty (`loop_penalty`), which mostly reads on
past the loop; otherwise the loop would be collapsed and the rest of what was said lost.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from opencc import OpenCC

from voice.asr import (
    Hypothesis,
    NotRecognized,
    Recognition,
    Segment,
    Transcriber,
    Transcript,
    is_filler,
    strip_punct,
)
from voice.vad import speech_span
from voice.vocabulary import initial_prompt

SHORT_MAX_S = 20.0
MAX_TOKENS = 448  # Whisper's decoder context: prompt + output must fit
PAD_S = 10.0
# Output cap against loops: tokens a second of speech, plus slack. A Chinese character is often two
# byte-level tokens, so fast real speech needs ~15 a second (10 cut real clips short).
TOKENS_PER_S = 20
CAP_SLACK = 12
TIMESTAMP_EVERY_S = 2.0  # a segment (two timestamp tokens) this often, at most, in timestamp mode
UNSURE_LOGPROB = -1.2  # a reading scored below this (average log-probability a token) is dropped
SPAN_PAD_MS = 1000  # speech kept around the VAD span: WebRTC misses quiet onsets and trailing words
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
# OpenCC leaves 著 alone (it is also simplified, as in 著名); Whisper without a prompt often writes it for
# the particle 着 (站著不走, 带著). Kept only where it is zhù: 著名, 著作, 显著, 名著, 土著...
_ZHE = re.compile(r"(?<![显土卓编原名专昭巨遗论译合撰新拙大所])著(?![名作称述书录者])")
_REPEAT = re.compile(r"(.{1,4}?)\1{3,}")  # the same 1-4 characters four or more times in a row
# Six or more (spaces aside): the decoder was stuck, not hearing (people say 对对对对, rarely six times).
_LOOP = re.compile(r"(.{1,4}?)\1{5,}")


# One decoded window: start, end, text, average log-probability per token, no-speech probability, and
# the beam's other readings of the same window as (text, average log-probability), best first.
RawSegment = tuple[float, float, str, float, float, tuple[tuple[str, float], ...]]


@dataclass(frozen=True)
class ShortJob:
    """A clip up to SHORT_MAX_S, ready for the model: log-mel features and the prompt's tokens."""

    mel: np.ndarray  # (n_mels, frames): the speech plus PAD_S seconds of silence
    tokens: tuple[int, ...]
    beam: int
    offset: float  # where the speech starts in the clip, seconds
    seconds: float  # speech length
    # In the full 30 s window with timestamps: the frames and tokens of the short window instead.
    short: tuple[int, tuple[int, ...]] | None = None

    @property
    def frames(self) -> int:
        return int(self.mel.shape[1])

    @property
    def group(self) -> tuple[int, int, bool]:
        """Jobs that can share a generate: same beam, CTranslate2 needs the start-of-transcript token
        at the same position, so prompts of the same length, and the same mode (timestamps or not)."""
        return self.beam, len(self.tokens), self.timestamps

    def hurried(self) -> ShortJob:
        """The same clip decoded greedily (when the queue is long), in the short window: the full
        window's features cut to speech + PAD_S are the short window's features."""
        if self.short is None:
            return replace(self, beam=1)
        frames, tokens = self.short
        return replace(self, mel=self.mel[:, :frames], tokens=tokens, beam=1, short=None)

    @property
    def timestamps(self) -> bool:
        return self.short is not None


@dataclass(frozen=True)
class LongJob:
    audio: np.ndarray
    prompt: str
    offset: float
    beam: int

    @property
    def frames(self) -> int:
        return 3000

    @property
    def group(self) -> None:
        return None  # never batched

    def hurried(self) -> LongJob:
        return replace(self, beam=1)


Job = ShortJob | LongJob


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
        narrowband_beam_size: int = 1,
        nbest: int = 1,
        workers: int = 1,
        full_window: bool = False,
        loop_penalty: float = 1.0,
    ) -> None:
        # `workers` replicas (decodes at once, voice.batching), sharing `threads` between them.
        self.model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=max(1, threads // max(1, workers)),
            num_workers=max(1, workers),
        )
        self.tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="transcribe", language="zh")
        self.vocabulary = vocabulary
        self.beam_size = beam_size
        self.narrowband_beam_size = narrowband_beam_size
        self.nbest = max(1, nbest)
        self.full_window = full_window  # wideband clips in Whisper's own 30 s window, with timestamps
        self.loop_penalty = loop_penalty  # repetition penalty of the second decode of a loop (<= 1: none)
        self._t2s = OpenCC("t2s")

    def transcribe(self, pcm16k: bytes, hints: Sequence[str] = ()) -> Recognition:
        return self._one(self.plan(pcm16k, hints))

    def transcribe_narrowband(self, pcm16k: bytes, hints: Sequence[str] = ()) -> Recognition:
        return self._one(self.plan(pcm16k, hints, narrowband=True))

    def _one(self, planned: Recognition | Job) -> Recognition:
        if isinstance(planned, ShortJob | LongJob):
            return self.decode([planned])[0]
        return planned

    # -- batching (voice.batching): plan in the caller's thread, decode many at once in one worker --
    def plan(self, pcm16k: bytes, hints: Sequence[str] = (), narrowband: bool = False) -> Recognition | Job:
        """The cheap part: VAD, features and prompt; silence is answered here without the model."""
        span = speech_span(pcm16k, pad_ms=SPAN_PAD_MS)
        if span is None:
            return NotRecognized("silence")
        audio = np.frombuffer(pcm16k[span[0] : span[1]], dtype="<i2").astype(np.float32) / 32768.0
        beam = self.narrowband_beam_size if narrowband else self.beam_size
        prompt = initial_prompt(self.vocabulary, tuple(hints))
        offset = span[0] / 32000
        if audio.size / 16000 > SHORT_MAX_S:
            return LongJob(audio, prompt, offset, beam)
        full = self.full_window and not narrowband
        short_frames = min(3000, int((audio.size / 16000 + PAD_S) * 100))
        frames = 3000 if full else short_frames
        padding = max(int(PAD_S * 16000), frames * 160 - audio.size) + 160
        mel = self.model.feature_extractor(audio, padding=padding)[:, :frames]
        mel = np.pad(mel, ((0, 0), (0, frames - mel.shape[1])))
        tok = self.tokenizer
        previous = (tok.sot_prev, *tok.encode(" " + prompt)) if prompt else ()
        # Timestamp mode, in the short window, read real speech worse; in the full window, better.
        tokens = (*previous, *tok.sot_sequence, tok.no_timestamps)
        if full:
            return ShortJob(mel, tokens[:-1], beam, offset, audio.size / 16000, (short_frames, tokens))
        return ShortJob(mel, tokens, beam, offset, audio.size / 16000)

    def decode(self, jobs: Sequence[Job]) -> list[Recognition]:
        """Recognitions for jobs in order: short jobs of one group (`ShortJob.group`) share one encode
        and one generate; a long job is decoded alone."""
        results: dict[int, Recognition] = {}
        short: dict[tuple[int, int, bool], list[int]] = {}
        for i, job in enumerate(jobs):
            if isinstance(job, LongJob):
                results[i] = self._finish(self._long(job.audio, job.prompt, job.offset, job.beam))
            else:
                short.setdefault(job.group, []).append(i)
        for members in short.values():
            raws = self._short([jobs[i] for i in members])  # type: ignore[misc]
            for i, raw in zip(members, raws, strict=True):
                results[i] = self._finish([raw])
        return [results[i] for i in range(len(jobs))]

    def _finish(self, raw: list[RawSegment]) -> Recognition:
        """Cleaning and the hallucination filter over a decode's segments."""
        kept = []
        for start, end, text, avg_logprob, no_speech, _alts in raw:
            text = self._clean(text)
            if text and not _is_hallucination(text, no_speech, avg_logprob, _compression(text)):
                conf = math.exp(avg_logprob) * (1.0 - 0.5 * no_speech)
                kept.append(Segment(round(start, 2), round(end, 2), text, round(conf, 3)))
        text = "".join(s.text for s in kept).strip()
        if not strip_punct(text):
            return NotRecognized("no_text")
        if is_filler(text):
            return NotRecognized("filler")
        weights = [max(1, len(s.text)) for s in kept]
        confidence = sum(s.confidence * w for s, w in zip(kept, weights, strict=True)) / sum(weights)
        if len(raw) != 1 or len(kept) != 1:
            return Transcript(text, round(confidence, 3), tuple(kept))
        no_speech = raw[0][4]
        alternatives = self._alternatives(text, raw[0][5], no_speech)
        return Transcript(text, round(confidence, 3), tuple(kept), alternatives, round(raw[0][3], 4))

    def _alternatives(
        self, top: str, readings: tuple[tuple[str, float], ...], no_speech: float
    ) -> tuple[Hypothesis, ...]:
        """The beam's other readings, cleaned as the top one is; duplicates (by their words, punctuation
        aside), hallucinations and filler-only readings dropped."""
        seen = {strip_punct(top)}
        out = []
        for raw_text, logprob in readings:
            text = self._clean(raw_text)
            key = strip_punct(text)
            if not key or key in seen or is_filler(text):
                continue
            if _is_hallucination(text, no_speech, logprob, _compression(text)):
                continue
            seen.add(key)
            out.append(Hypothesis(text, round(logprob, 4)))
        return tuple(out)

    def _short(self, jobs: Sequence[ShortJob]) -> list[RawSegment]:
        """One encode and one decode (beam jobs[0].beam) over windows of speech plus at least PAD_S
        seconds of silence; the batch's windows are padded to the longest. Readings that looped are
        decoded again, from the same encoding, with a repetition penalty, and replaced when that reading
        neither loops nor is too unsure to keep."""
        frames = max(j.frames for j in jobs)
        mels = np.stack([np.pad(j.mel, ((0, 0), (0, frames - j.mel.shape[1]))) for j in jobs])
        encoded = self.model.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(mels)), to_cpu=False
        )
        vectors = np.asarray(encoded) if jobs[0].timestamps else None  # a group shares its mode
        out = self._generate(encoded, vectors, jobs)
        again = [i for i, (_raw, looped) in enumerate(out) if looped] if self.loop_penalty > 1 else []
        if again:
            subset = np.ascontiguousarray((np.asarray(encoded) if vectors is None else vectors)[again])
            retried = self._generate(
                ctranslate2.StorageView.from_array(subset),
                subset,
                [jobs[i] for i in again],
                repetition_penalty=self.loop_penalty,
            )
            for i, (raw, looped) in zip(again, retried, strict=True):
                if not looped and raw[3] >= UNSURE_LOGPROB:  # else the filter would drop it: keep the first
                    out[i] = (raw, False)
        return [raw for raw, _looped in out]

    def _generate(
        self,
        encoded: ctranslate2.StorageView,
        vectors: np.ndarray | None,
        jobs: Sequence[ShortJob],
        repetition_penalty: float = 1.0,
    ) -> list[tuple[RawSegment, bool]]:
        """Each job's segment from its encoding, and whether its best reading looped."""
        longest = max(j.seconds for j in jobs)
        timestamps = jobs[0].timestamps
        results = self.model.model.generate(
            encoded,
            [list(j.tokens) for j in jobs],
            beam_size=jobs[0].beam,
            # with timestamps the beam's readings often differ only in them: all asked, texts kept
            num_hypotheses=jobs[0].beam if timestamps else min(jobs[0].beam, self.nbest),
            max_length=min(MAX_TOKENS, len(jobs[0].tokens) + _max_output(longest, timestamps)),
            repetition_penalty=repetition_penalty,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )
        out = []
        for i, (job, result) in enumerate(zip(jobs, results, strict=True)):
            # Output is capped by this clip's own length, as when it was decoded alone.
            if vectors is None:
                found = readings(result, self.tokenizer, _max_output(job.seconds))
            else:
                found = self._rescored(job, vectors[i], result)
            (text, avg_logprob), *others = found
            end = job.offset + job.seconds
            raw = (job.offset, end, text, avg_logprob, result.no_speech_prob, tuple(others))
            out.append((raw, _LOOP.search(re.sub(r"\s", "", text)) is not None))
        return out

    def _rescored(
        self, job: ShortJob, encoded: np.ndarray, result: ctranslate2.models.WhisperGenerationResult
    ) -> list[tuple[str, float]]:
        """Timestamp mode: the beam's distinct texts (up to `nbest`, in the beam's order), each scored
        by the model without timestamps (`align`'s token probabilities): its own scores count the
        timestamp tokens, which would lower the confidence the read-back threshold was chosen on."""
        tok = self.tokenizer
        texts: list[list[int]] = []
        for seq in result.sequences_ids:
            ids = [t for t in seq if t < tok.eot][: _max_output(job.seconds)]
            if ids and ids not in texts:
                texts.append(ids)
            if len(texts) == self.nbest:
                break
        if not texts:
            return [("", -10.0)]
        features = ctranslate2.StorageView.from_array(np.repeat(encoded[None], len(texts), axis=0))
        aligned = self.model.model.align(
            features, list(job.tokens), texts, max(1, round(job.seconds * 100)), median_filter_width=7
        )
        return [
            (tok.decode(ids), float(np.mean(np.log(np.maximum(a.text_token_probs, 1e-10)))))
            for ids, a in zip(texts, aligned, strict=True)
        ]

    def _long(self, audio: np.ndarray, prompt: str, offset: float, beam: int) -> list[RawSegment]:
        segments, _info = self.model.transcribe(
            audio,
            language="zh",
            task="transcribe",
            beam_size=beam,
            temperature=0.0,
            initial_prompt=prompt or None,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
            max_new_tokens=MAX_TOKENS - (len(self.tokenizer.encode(" " + prompt)) if prompt else 0) - 8,
        )
        return [
            (offset + s.start, offset + s.end, s.text, s.avg_logprob, s.no_speech_prob, ()) for s in segments
        ]

    def transcribe_plain(self, pcm16k: bytes) -> Recognition:
        """faster-whisper's own defaults (beam 5, temperature fallback, no prompt, no VAD gate), in
        simplified characters: the yardstick the tuned decoding must not fall behind."""
        audio = np.frombuffer(pcm16k, dtype="<i2").astype(np.float32) / 32768.0
        segments = list(self.model.transcribe(audio, language="zh", task="transcribe")[0])
        text = "".join(self._t2s.convert(s.text.strip()) for s in segments)
        if not strip_punct(text):
            return NotRecognized("no_text")
        logprob = sum(s.avg_logprob * max(1, len(s.text)) for s in segments)
        confidence = math.exp(logprob / sum(max(1, len(s.text)) for s in segments))
        return Transcript(text, round(confidence, 3))

    def _clean(self, text: str) -> str:
        text = self._t2s.convert(text.strip()).translate(_ASCII_PUNCT)
        text = _ZHE.sub("着", text)
        text = re.sub(r"(?<=[\u4e00-\u9fff])\.(?=$|[\u4e00-\u9fff])", "。", text)
        return _REPEAT.sub(r"\1", text)


def readings(
    result: ctranslate2.models.WhisperGenerationResult, tok: Tokenizer, max_tokens: int
) -> list[tuple[str, float]]:
    """Every hypothesis of one generate() result as (raw text, average log-probability per token),
    best first, each cut at `max_tokens` and its score rescaled as the single reading's always was."""
    out = []
    for seq, score in zip(result.sequences_ids, result.scores, strict=True):
        ids = [t for t in seq if t < tok.eot][:max_tokens]
        out.append((tok.decode(ids), score * len(ids) / (len(ids) + 1) if ids else -10.0))
    return out


def _max_output(seconds: float, timestamps: bool = False) -> int:
    """Tokens a decode may write; with timestamps, two more for every TIMESTAMP_EVERY_S of speech
    (the text itself is still cut at the cap without them, in `readings`)."""
    stamps = 2 * (int(seconds / TIMESTAMP_EVERY_S) + 1) if timestamps else 0
    return int(seconds * TOKENS_PER_S) + CAP_SLACK + stamps


def _compression(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _is_hallucination(text: str, no_speech_prob: float, avg_logprob: float, compression_ratio: float) -> bool:
    """Whisper's own signals: likely non-speech, unsure, or looping; plus known subtitle phrases."""
    if no_speech_prob > 0.6 and avg_logprob < -0.6:
        return True
    if compression_ratio > 2.4 or avg_logprob < UNSURE_LOGPROB:
        return True
    return any(h in text for h in HALLUCINATIONS)
