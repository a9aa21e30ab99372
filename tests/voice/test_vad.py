"""Speech detection on real speech, and end-of-speech events for 8 kHz phone frames (the hotline)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.voice.conftest import fixture_pcm
from voice import codecs
from voice.vad import EndpointDetector, has_speech, speech_span


@pytest.fixture(scope="module")
def phone_speech() -> bytes:
    """A spoken request as the phone line carries it: 8 kHz, through µ-law."""
    pcm8k = codecs.resample(fixture_pcm("req04_noise.ogg"), 16000, 8000)
    return codecs.mulaw_decode(codecs.mulaw_encode(pcm8k))


def test_speech_and_silence() -> None:
    speech = fixture_pcm("req01_water_pipe.ogg")
    assert has_speech(speech)
    assert not has_speech(b"\x00\x00" * 32000)
    span = speech_span(speech)
    assert span is not None and 0 <= span[0] < span[1] <= len(speech)
    assert span[0] > 0  # the fixture starts with 0.25 s of room tone


def test_endpoint_detector_finds_start_and_end(phone_speech: bytes) -> None:
    det = EndpointDetector(rate=8000, frame_ms=20, end_silence_ms=700)
    stream = b"\x00\x00" * 8000 + phone_speech + b"\x00\x00" * 8000  # 1 s silence, speech, 1 s silence
    events = []
    for pos in range(0, len(stream) - det.frame_bytes + 1, det.frame_bytes):
        event = det.feed(stream[pos : pos + det.frame_bytes])
        if event:
            events.append(event)
    kinds = [e.kind for e in events]
    assert kinds == ["speech_start", "speech_end"]
    start, end = events
    assert 1000 <= start.at_ms <= 1700
    speech_ms = len(phone_speech) / 16
    assert end.at_ms == pytest.approx(1000 + speech_ms + 700, abs=600)
    assert len(end.audio) / 16 >= speech_ms - 600  # the utterance (with lead-in) is handed over


def test_no_input_and_reset() -> None:
    det = EndpointDetector(no_input_ms=1000)
    silent = b"\x00\x00" * (det.frame_bytes // 2)
    events = [det.feed(silent) for _ in range(60)]
    assert [e.kind for e in events if e] == ["no_input"]
    det.reset()
    assert det.feed(silent) is None


def test_max_length_stops_an_endless_caller(phone_speech: bytes) -> None:
    det = EndpointDetector(max_speech_ms=1000, end_silence_ms=5000)
    events = [
        det.feed(phone_speech[p : p + det.frame_bytes])
        for p in range(0, len(phone_speech) - det.frame_bytes + 1, det.frame_bytes)
    ]
    kinds = [e.kind for e in events if e]
    assert kinds == ["speech_start", "max_length"]


def test_rejects_wrong_frame_size() -> None:
    with pytest.raises(ValueError):
        EndpointDetector().feed(b"\x00" * 10)
    with pytest.raises(ValueError):
        EndpointDetector(frame_ms=25)


def test_hiss_is_not_speech() -> None:
    rng = np.random.default_rng(0)
    assert not has_speech(rng.normal(0, 30, 48000).astype("<i2").tobytes())
