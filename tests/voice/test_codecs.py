"""Audio plumbing on real speech: every channel format in and out, limits, corrupt and empty input."""

from __future__ import annotations

import io
import math

import av
import numpy as np
import pytest

from core.errors import AudioTooLarge, AudioTooLong, CorruptAudio, EmptyAudio
from tests.voice.conftest import CLIPS, fixture_pcm
from voice import codecs


@pytest.fixture(scope="module")
def speech() -> bytes:
    return fixture_pcm("req01_water_pipe.ogg")


def _corr(a: bytes, b: bytes) -> float:
    """Best normalized cross-correlation of two PCM signals within ±50 ms (codec delay)."""
    x = np.frombuffer(a, "<i2").astype(np.float64)
    y = np.frombuffer(b, "<i2").astype(np.float64)
    n = min(x.size, y.size) - 1600
    best = 0.0
    for lag in range(0, 1600, 8):
        u, v = x[:n], y[lag : lag + n]
        best = max(best, float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9)))
        u, v = x[lag : lag + n], y[:n]
        best = max(best, float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9)))
    return best


@pytest.mark.parametrize(
    ("fmt", "min_corr"), [("wav", 0.999), ("ogg", 0.8), ("mp3", 0.8), ("amr", 0.6), ("mulaw8k", 0.9)]
)
def test_round_trip_keeps_the_speech(speech: bytes, fmt: str, min_corr: float) -> None:
    data = codecs.encode(speech, fmt)
    back = codecs.decode(data, fmt)
    assert abs(codecs.duration(back) - codecs.duration(speech)) < 0.1
    if fmt in ("amr", "mulaw8k"):  # narrow-band: compare with the same speech band-limited to 8 kHz
        speech = codecs.resample(codecs.resample(speech, 16000, 8000), 8000, 16000)
    assert _corr(speech, back) >= min_corr


def test_amr_is_what_wechat_sends(speech: bytes) -> None:
    data = codecs.encode(speech, "amr")
    assert data.startswith(b"#!AMR\n")
    assert len(data) < len(speech) / 10
    assert codecs.decode(data, None)  # no hint: FFmpeg probes the header, as for a WeChat download


def test_ogg_opus_is_what_telegram_sends(speech: bytes) -> None:
    data = codecs.encode(speech, "ogg")
    assert data.startswith(b"OggS") and b"OpusHead" in data[:200]
    assert codecs.decode(data, "audio/ogg; codecs=opus")


def test_webm_opus_from_a_browser(speech: bytes) -> None:
    buf = io.BytesIO()
    with av.open(buf, "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48000, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            np.frombuffer(codecs.resample(speech, 16000, 48000), "<i2").reshape(1, -1),
            format="s16",
            layout="mono",
        )
        frame.sample_rate = 48000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    back = codecs.decode(buf.getvalue(), "audio/webm;codecs=opus")
    assert abs(codecs.duration(back) - codecs.duration(speech)) < 0.1


def test_wav_at_any_rate_and_stereo_becomes_16k_mono() -> None:
    t = np.arange(44100) / 44100
    tone = (np.sin(2 * math.pi * 440 * t) * 8000).astype("<i2")
    stereo = np.stack([tone, tone], axis=1).reshape(-1)
    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=44100, layout="stereo")
        frame = av.AudioFrame.from_ndarray(stereo.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = 44100
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    pcm = codecs.decode(buf.getvalue(), "wav")
    assert abs(codecs.duration(pcm) - 1.0) < 0.01


@pytest.mark.skipif(not CLIPS.is_dir(), reason="evaluation clips not present")
def test_reads_the_evaluation_clips_unchanged() -> None:
    raw = (CLIPS / "paddleaudio_tests_zh.wav").read_bytes()
    assert codecs.decode(raw, "wav") == raw[44:][: len(codecs.decode(raw, "wav"))]


def test_mulaw_matches_g711() -> None:
    samples = np.arange(-32768, 32768, 7, dtype="<i2").tobytes()
    buf = io.BytesIO()
    with av.open(buf, "w", format="mulaw") as out:  # FFmpeg's own G.711 encoder as reference
        stream = out.add_stream("pcm_mulaw", rate=8000, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            np.frombuffer(samples, "<i2").reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    ours = np.frombuffer(codecs.mulaw_encode(samples), np.uint8).astype(int)
    ref = np.frombuffer(buf.getvalue(), np.uint8).astype(int)
    assert np.mean(ours == ref) > 0.99  # encoders may round differently at segment edges
    assert np.max(np.abs(ours - ref)) <= 1
    every_code = bytes(range(256))
    with av.open(io.BytesIO(every_code), format="mulaw", options={"sample_rate": "8000"}) as inp:
        decoded = b"".join(f.to_ndarray().tobytes() for f in inp.decode(audio=0))
    assert codecs.mulaw_decode(every_code) == decoded  # decoding is exact


def test_phone_audio_is_8k_mulaw(speech: bytes) -> None:
    ulaw = codecs.encode(speech, "mulaw8k")
    assert len(ulaw) == pytest.approx(codecs.duration(speech) * 8000, abs=80)


def test_empty_audio() -> None:
    with pytest.raises(EmptyAudio):
        codecs.decode(b"", "amr")
    with pytest.raises((EmptyAudio, CorruptAudio)):
        codecs.decode(b"\x00", "amr")
    with pytest.raises(EmptyAudio):  # a valid file holding no samples
        codecs.decode(codecs.encode(b"", "wav"), "wav")


@pytest.mark.parametrize(
    "data",
    [b"garbage" * 200, b"#!AMR\n" + bytes(range(256)) * 3, b"OggS" + b"\xff" * 500],
    ids=["noise", "broken-amr", "broken-ogg"],
)
def test_corrupt_audio_is_a_typed_error(data: bytes) -> None:
    with pytest.raises((CorruptAudio, EmptyAudio)):
        codecs.decode(data, "amr")


def test_truncated_file_decodes_what_is_there_or_fails_cleanly(speech: bytes) -> None:
    data = codecs.encode(speech, "ogg")
    for cut in (10, 300, len(data) // 2):
        try:
            pcm = codecs.decode(data[:cut], "ogg")
        except (CorruptAudio, EmptyAudio):
            continue
        assert codecs.duration(pcm) < codecs.duration(speech)


def test_limits(speech: bytes) -> None:
    long_audio = codecs.encode(speech * 20, "amr")  # ~80 s of AMR is only ~100 KB
    with pytest.raises(AudioTooLong):
        codecs.decode(long_audio, "amr", max_seconds=60)
    with pytest.raises(AudioTooLarge):
        codecs.decode(b"\x00" * 3_000_000, "wav", max_bytes=2 * 1024 * 1024)
    with pytest.raises(AudioTooLong):
        codecs.decode(codecs.encode(speech, "mulaw8k"), "mulaw8k", max_seconds=1)


def test_raw_8k_pcm_for_the_phone(speech: bytes) -> None:
    pcm8k = codecs.encode(speech, "pcm8k")
    assert len(pcm8k) == pytest.approx(len(speech) / 2, abs=160)
    back = codecs.decode(pcm8k, "pcm8k")
    assert abs(codecs.duration(back) - codecs.duration(speech)) < 0.05


@pytest.mark.parametrize(
    ("hint", "narrow"),
    [
        ("amr", True),
        ("audio/AMR", True),
        ("mulaw8k", True),
        ("pcm8k", True),
        ("ogg", False),
        ("wav", False),
        (None, False),
    ],
)
def test_eight_kilohertz_sources_are_narrowband(hint: str | None, narrow: bool) -> None:
    """WeChat's AMR voice notes are 8 kHz like the phone line, and get the phone's decoding."""
    assert codecs.is_narrowband(hint) is narrow
