"""Recognition measured on a directory of clips: character error rate, confusions, confidence, and
(when the caller passes a classifier, which lives above this layer) how many clips are understood
as they should be, against the same sentences typed.

A clip directory holds WAV files and `transcripts.tsv` (tab-separated, header row) with at least the
columns `file` and `transcript`; `intent` and `item` are optional (what understanding should return).
8 kHz clips are brought to 16 kHz the way the phone line does it.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import time
import wave
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import VoiceError
from voice import codecs
from voice.asr import NotRecognized, Recognition, Transcriber, Transcript, is_filler, relative_alternatives

TABLE = "transcripts.tsv"
_DIGITS = "零一二三四五六七八九"
_NUMERAL = re.compile(r"[零〇一二三四五六七八九十百千]+")
_NOT_WORD = re.compile(r"[\W_]+")

Classify = Callable[[str], tuple[str, str | None]]  # text -> (intent, item)
Recognize = Callable[[bytes, bool], Recognition]  # 16 kHz PCM, was it 8 kHz -> recognition
# The reading understanding takes and the confidence it reads back by: first reading, its confidence,
# other readings (text, relative log-probability) -> (text, confidence).
Pick = Callable[[str, float, tuple[tuple[str, float], ...]], tuple[str, float]]


@dataclass(frozen=True)
class Clip:
    file: str
    transcript: str
    intent: str = ""
    item: str = ""


@dataclass(frozen=True)
class ClipResult:
    clip: Clip
    heard: str  # "" when not recognized
    confidence: float
    errors: int  # edit distance to the reference, in characters
    length: int  # reference length, in characters
    seconds: float
    spoken_ok: bool | None = None  # classified right from what was heard (None: no classifier/label)
    typed_ok: bool | None = None  # classified right from the reference text itself
    chosen: str = ""  # the reading understanding took (n-best), when not the first
    chosen_errors: int | None = None  # its edit distance to the reference
    understood_confidence: float | None = None  # what the read-back goes by, when `pick` changed it

    @property
    def read_back_confidence(self) -> float:
        return self.confidence if self.understood_confidence is None else self.understood_confidence


@dataclass
class EvalReport:
    results: list[ClipResult] = field(default_factory=list)

    def summary(self, min_confidence: float, top: int = 15) -> dict[str, Any]:
        """The figures as one JSON-ready dict."""
        errors = sum(r.errors for r in self.results)
        length = sum(r.length for r in self.results)
        out: dict[str, Any] = {
            "clips": len(self.results),
            "cer": round(errors / max(1, length), 4),
            "cer_chosen": round(
                sum(r.errors if r.chosen_errors is None else r.chosen_errors for r in self.results)
                / max(1, length),
                4,
            ),
            "chose_other": sum(1 for r in self.results if r.chosen),
            "not_recognized": sum(1 for r in self.results if not r.heard),
            "seconds_per_clip": round(sum(r.seconds for r in self.results) / max(1, len(self.results)), 3),
        }
        labelled = [r for r in self.results if r.spoken_ok is not None]
        if labelled:
            spoken = sum(1 for r in labelled if r.spoken_ok)
            typed = sum(1 for r in labelled if r.typed_ok)
            out["classified_right"] = round(spoken / len(labelled), 4)
            out["typed_right"] = round(typed / len(labelled), 4)
            out["of_typed"] = round(spoken / max(1, typed), 4)
            # A wrong transcript: the typed sentence is understood, the heard one is not.
            wrong = [r for r in labelled if r.typed_ok and not r.spoken_ok]
            out["wrong_read_back"] = sum(1 for r in wrong if r.read_back_confidence < min_confidence)
            out["wrong_slipped_through"] = len(wrong) - out["wrong_read_back"]
            right = [r for r in labelled if r.spoken_ok]
            out["right_read_back"] = sum(1 for r in right if r.read_back_confidence < min_confidence)
        out["confusions"] = [[ref, hyp, n] for (ref, hyp), n in self.confusions().most_common(top)]
        return out

    def confusions(self) -> Counter[tuple[str, str]]:
        found: Counter[tuple[str, str]] = Counter()
        for r in self.results:
            found.update(confusions(r.clip.transcript, r.heard))
        return found


def read_table(directory: Path) -> list[Clip]:
    """The clips a directory's transcripts.tsv lists (rows whose file is missing are skipped)."""
    if not (directory / TABLE).is_file():
        raise VoiceError(f"{directory}: no {TABLE} (columns file, transcript[, intent, item])")
    with open(directory / TABLE, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        Clip(row["file"], row["transcript"], row.get("intent") or "", row.get("item") or "")
        for row in rows
        if (directory / row["file"]).is_file()
    ]


def write_table(directory: Path, clips: Sequence[Clip]) -> None:
    with open(directory / TABLE, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter="\t", lineterminator="\n")
        out.writerow(["file", "transcript", "intent", "item"])
        out.writerows([c.file, c.transcript, c.intent, c.item] for c in clips)


def read_clip(path: Path) -> bytes:
    """16 kHz mono s16 PCM of a WAV clip (8 kHz resampled as the phone line does)."""
    return read_clip_rate(path)[0]


def read_clip_rate(path: Path) -> tuple[bytes, bool]:
    """(16 kHz PCM, whether the clip was 8 kHz phone audio)."""
    with wave.open(str(path), "rb") as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        data = wav.readframes(wav.getnframes())
    if width == 2 and channels == 1 and rate in (8000, codecs.RATE):
        return (data, False) if rate == codecs.RATE else (codecs.resample(data, rate, codecs.RATE), True)
    return codecs.decode(path.read_bytes(), "wav", max_seconds=600, max_bytes=1 << 30), rate <= 8000


def cer_text(text: str) -> str:
    """Text as scored: no punctuation, lower case, numerals written as Arabic numbers."""
    return _NUMERAL.sub(_arabic, _NOT_WORD.sub(" ", text).lower()).strip()


def units(text: str) -> list[str]:
    """Scored units: each Chinese character or digit, each word of Latin letters (mixed error rate)."""
    return [u for u in re.findall(r"[a-z]+|\S", cer_text(text), re.ASCII) if u.strip()]


def _arabic(match: re.Match[str]) -> str:
    span = match.group(0).replace("〇", "零")
    if not any(c in "十百千" for c in span):
        return "".join(str(_DIGITS.index(c)) for c in span)
    total, digit = 0, 0
    for c in span:
        if c in _DIGITS:
            digit = _DIGITS.index(c)
            continue
        unit = {"十": 10, "百": 100, "千": 1000}[c]
        total += (digit or 1) * unit
        digit = 0
    return str(total + digit)


def edit_distance(reference: str, hypothesis: str) -> int:
    """Levenshtein distance in scored units (characters; a Latin word counts as one)."""
    ref, hyp = units(reference), units(hypothesis)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1]))
    return row[len(hyp)]


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate of one hypothesis (punctuation-insensitive, numerals normalized)."""
    return edit_distance(reference, hypothesis) / max(1, len(units(reference)))


def confusions(reference: str, hypothesis: str) -> list[tuple[str, str]]:
    """Runs of differing characters as (said, heard) pairs, from one minimal alignment."""
    ref, hyp = units(reference), units(hypothesis)
    n, m = len(ref), len(hyp)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 or j == 0:
                cost[i][j] = i + j
            else:
                same = cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1])
                cost[i][j] = min(same, cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    pairs: list[tuple[str, str]] = []
    said: list[str] = []
    heard: list[str] = []
    i, j = n, m
    while i or j:
        if i and j and ref[i - 1] == hyp[j - 1] and cost[i][j] == cost[i - 1][j - 1]:
            if said or heard:
                pairs.append((_join(said), _join(heard)))
                said, heard = [], []
            i, j = i - 1, j - 1
        elif i and j and cost[i][j] == cost[i - 1][j - 1] + 1:
            said, heard, i, j = [ref[i - 1], *said], [hyp[j - 1], *heard], i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            said, i = [ref[i - 1], *said], i - 1
        else:
            heard, j = [hyp[j - 1], *heard], j - 1
    if said or heard:
        pairs.append((_join(said), _join(heard)))
    return pairs[::-1]


def _join(tokens: list[str]) -> str:
    """Units back to text: Chinese characters run together, Latin words keep a space."""
    return " ".join(tokens) if any(t.isascii() and t.isalpha() for t in tokens) else "".join(tokens)


def evaluate(
    directory: Path,
    recognize: Recognize,
    classify: Classify | None = None,
    limit: int | None = None,
    pick: Pick | None = None,
    classify_heard: Classify | None = None,
) -> EvalReport:
    """Recognize every clip the table lists and score it (and classify it, given a classifier: the
    reading `pick` takes among the recognizer's n-best, else the first; with `classify_heard` when
    recognized speech is understood differently from typed text)."""
    classify_heard = classify_heard or classify
    report = EvalReport()
    for clip in read_table(directory)[:limit]:
        pcm, narrowband = read_clip_rate(directory / clip.file)
        started = time.perf_counter()
        result = recognize(pcm, narrowband)
        seconds = time.perf_counter() - started
        heard = "" if isinstance(result, NotRecognized) else result.text
        confidence = 0.0 if isinstance(result, NotRecognized) else result.confidence
        chosen, understood = heard, confidence
        if pick is not None and isinstance(result, Transcript) and result.alternatives:
            chosen, understood = pick(heard, confidence, relative_alternatives(result))
        spoken_ok = typed_ok = None
        if classify is not None and clip.intent:
            assert classify_heard is not None
            spoken_ok = _matches(clip, classify_heard(chosen)) if chosen else False
            typed_ok = _matches(clip, classify(clip.transcript))
        report.results.append(
            ClipResult(
                clip,
                heard,
                confidence,
                _errors(clip.transcript, heard),
                len(units(clip.transcript)),
                seconds,
                spoken_ok,
                typed_ok,
                chosen if chosen != heard else "",
                _errors(clip.transcript, chosen) if chosen != heard else None,
                understood if understood != confidence else None,
            )
        )
    return report


def compare(ours: EvalReport, other: EvalReport, resamples: int = 10000, seed: int = 1) -> dict[str, Any]:
    """CER of two decodings of the same clips, and how sure the difference is: a paired bootstrap over
    clips (resampled with replacement, both decodings' errors kept together), since a handful of
    clips can swing a small set by points."""
    theirs = {r.clip.file: r.errors for r in other.results}
    rows = [(r.errors, theirs[r.clip.file], r.length) for r in ours.results if r.clip.file in theirs]
    if not rows:
        raise VoiceError("no clip was scored by both decodings")

    def diff(sample: Sequence[tuple[int, int, int]]) -> float:
        length = max(1, sum(n for _, _, n in sample))
        return (sum(a for a, _, _ in sample) - sum(b for _, b, _ in sample)) / length

    rng = random.Random(seed)
    spread = sorted(diff(rng.choices(rows, k=len(rows))) for _ in range(resamples))
    length = max(1, sum(n for _, _, n in rows))
    return {
        "clips": len(rows),
        "cer": round(sum(a for a, _, _ in rows) / length, 4),
        "cer_other": round(sum(b for _, b, _ in rows) / length, 4),
        "difference": round(diff(rows), 4),
        "difference_95": [
            round(spread[int(0.025 * resamples)], 4),
            round(spread[int(0.975 * resamples) - 1], 4),
        ],
        "share_worse": round(sum(d > 0 for d in spread) / resamples, 3),  # resamples where ours reads worse
    }


def _errors(reference: str, heard: str) -> int:
    """Edit distance; hearing nothing (or only hesitation) in a clip of hesitation is right."""
    if is_filler(reference) and is_filler(heard):
        return 0
    return edit_distance(reference, heard)


def _matches(clip: Clip, got: tuple[str, str | None]) -> bool:
    intent, item = got
    return intent == clip.intent and (not clip.item or item == clip.item)


def details(report: EvalReport) -> list[dict[str, Any]]:
    """One row per clip, for --details."""
    return [
        {
            "file": r.clip.file,
            "said": r.clip.transcript,
            "heard": r.heard,
            "cer": round(r.errors / max(1, r.length), 3),
            "confidence": r.confidence,
            **({"chosen": r.chosen} if r.chosen else {}),
            **({} if r.understood_confidence is None else {"read_back_by": r.understood_confidence}),
            **({} if r.spoken_ok is None else {"spoken_ok": r.spoken_ok, "typed_ok": r.typed_ok}),
        }
        for r in report.results
    ]


def recognizer(transcriber: Transcriber, decoder: str) -> Recognize:
    """The configured decoding ("ours") or faster-whisper's defaults ("plain") of a loaded model."""
    if decoder == "plain":
        if not hasattr(transcriber, "transcribe_plain"):
            raise VoiceError(f"--decoder plain needs the whisper backend, not {transcriber.name}")
        plain = transcriber.transcribe_plain
        return lambda pcm, narrowband: plain(pcm)  # type: ignore[no-any-return]
    return lambda pcm, narrowband: (
        transcriber.transcribe_narrowband(pcm) if narrowband else transcriber.transcribe(pcm)
    )


def eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by `python -m voice eval` and `python -m bot voice-eval`."""
    parser.add_argument("dir", help="a directory of WAV clips with transcripts.tsv (file, transcript, ...)")
    parser.add_argument("--decoder", choices=("ours", "plain"), default="ours")
    parser.add_argument("--limit", type=int, help="only the first N clips")
    parser.add_argument("--details", action="store_true", help="also print every clip")
