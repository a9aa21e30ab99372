"""How many callers speaking at once this machine hears back in time (`python -m bot doctor`).

A caller's reply waits for the end-of-speech pause, then for the recognitions queued ahead of it. With
`workers` decodes running at once, each taking `decode_s` (greedy, as the queue decodes under load), the
k-th of n callers who stop talking together hears back after about
end_silence + ceil(k / workers) * decode_s. The decode time is what differs most between machines: the same
phone request took 0.37 s on one 2-core VM of this project and 0.69 s on another (AVX2 only).
"""

from __future__ import annotations

import math
import statistics
import time

from voice import codecs
from voice.asr import Transcriber
from voice.batching import BatchDecoder
from voice.prompts import PromptLibrary

SAMPLE_CHARS = 16  # a typical spoken request: about 4 s in the prompts' voice


def sample_note(library: PromptLibrary) -> bytes:
    """16 kHz PCM of a library prompt about as long as a request, as a voice note brings it. Chosen by
    its text, so that only this one prompt is decoded."""
    texts = sorted(library.texts())
    if not texts:
        raise LookupError("the prompt library is empty")
    return library.get(min(texts, key=lambda t: abs(len(t) - SAMPLE_CHARS))) or b""


def sample_request(library: PromptLibrary) -> bytes:
    """The same prompt as it arrives over the phone (8 kHz µ-law), back at 16 kHz."""
    return codecs.decode(codecs.encode(sample_note(library), "mulaw8k"), "mulaw8k")


def decode_seconds(
    transcriber: Transcriber, pcm16k: bytes, *, narrowband: bool, hurried: bool, repeats: int = 3
) -> float:
    """Median time of one decode (one worker) as configured, or hurried as under load, after a
    warm-up decode."""
    if not isinstance(transcriber, BatchDecoder):
        raise TypeError(f"{type(transcriber).__name__} does not decode in jobs")
    job = transcriber.plan(pcm16k, (), narrowband=narrowband)
    if not hasattr(job, "hurried"):
        raise ValueError(f"the sample was not decodable speech: {job}")
    if hurried:
        job = job.hurried()
    transcriber.decode([job])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        transcriber.decode([job])
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def callers_within(reply_within_s: float, end_silence_s: float, decode_s: float, workers: int) -> int:
    """How many callers who stop talking together all hear back within `reply_within_s`."""
    rounds = math.floor((reply_within_s - end_silence_s) / decode_s) if decode_s > 0 else 0
    return max(0, rounds) * max(1, workers)


def reply_after(callers: int, end_silence_s: float, decode_s: float, workers: int) -> float:
    """Seconds until the last of `callers` who stop talking together hears back (queue model)."""
    return end_silence_s + math.ceil(callers / max(1, workers)) * decode_s
