"""Audio in and out: any container/codec → 16 kHz mono s16 PCM, and PCM → the formats channels need.

Decoding and encoding use PyAV (FFmpeg bundled in its wheel); µ-law is a lookup table in NumPy
because phone audio arrives headerless. Problems raise the typed errors of `core.errors`.
"""

from __future__ import annotations

import io
from typing import Literal

import av
import numpy as np

from core.errors import AudioTooLarge, AudioTooLong, CorruptAudio, EmptyAudio, EncodeError

RATE = 16000
OutFormat = Literal["mp3", "amr", "ogg", "wav", "mulaw8k", "pcm8k", "pcm16k"]
OUT_FORMATS: tuple[str, ...] = ("mp3", "amr", "ogg", "wav", "mulaw8k", "pcm8k", "pcm16k")
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "amr": "audio/amr",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "mulaw8k": "audio/basic",
    "pcm8k": "audio/L16;rate=8000",
    "pcm16k": "audio/L16;rate=16000",
}
# Hints (file extension or MIME subtype) mapped to an FFmpeg demuxer; None lets FFmpeg probe.
_DEMUXERS = {
    "amr": "amr",
    "ogg": "ogg",
    "opus": "ogg",
    "oga": "ogg",
    "webm": "webm",
    "mp3": "mp3",
    "mpeg": "mp3",
    "wav": "wav",
    "x-wav": "wav",
    "m4a": None,
    "mp4": None,
}
_RAW = {"mulaw8k", "ulaw", "mulaw", "pcm16k", "s16le", "pcm8k"}


def decode(
    data: bytes, fmt_hint: str | None = None, *, max_seconds: float = 60.0, max_bytes: int = 2 * 1024 * 1024
) -> bytes:
    """Decode an audio file (or raw µ-law/PCM when hinted) to 16 kHz mono 16-bit LE PCM."""
    if not data:
        raise EmptyAudio("no audio bytes")
    if len(data) > max_bytes:
        raise AudioTooLarge(f"{len(data)} bytes > {max_bytes}")
    hint = _norm_hint(fmt_hint)
    if hint in _RAW:
        data = data[: len(data) // 2 * 2] if hint not in ("mulaw8k", "ulaw", "mulaw") else mulaw_decode(data)
        pcm = resample(data, 8000, RATE) if hint in ("mulaw8k", "ulaw", "mulaw", "pcm8k") else data
    else:
        pcm = _decode_container(data, _DEMUXERS.get(hint or ""), max_seconds)
    if len(pcm) < 2 * RATE // 50:  # under 20 ms
        raise EmptyAudio("no audio samples")
    if len(pcm) / 2 / RATE > max_seconds:
        raise AudioTooLong(f"{len(pcm) / 2 / RATE:.1f} s > {max_seconds} s")
    return pcm


def is_narrowband(fmt_hint: str | None) -> bool:
    """True for audio recorded at 8 kHz: the phone line's formats and AMR-NB (WeChat voice notes),
    which get the phone's decoding (see asr.whisper_phone_beam_size)."""
    return _norm_hint(fmt_hint) in ("mulaw8k", "ulaw", "mulaw", "pcm8k", "amr")


def _norm_hint(fmt_hint: str | None) -> str | None:
    if not fmt_hint:
        return None
    hint = fmt_hint.lower().strip().lstrip(".")
    hint = hint.split(";")[0].rsplit("/", 1)[-1]  # "audio/ogg; codecs=opus" -> "ogg"
    return hint.removeprefix("x-") if hint.startswith("x-") and hint != "x-wav" else hint


def _decode_container(data: bytes, demuxer: str | None, max_seconds: float) -> bytes:
    limit = int(max_seconds * RATE * 2) + 2 * RATE  # stop decoding a little past the limit
    out = bytearray()
    try:
        with av.open(io.BytesIO(data), mode="r", format=demuxer) as container:
            if not container.streams.audio:
                raise CorruptAudio("no audio stream")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            for frame in container.decode(stream):
                for out_frame in resampler.resample(frame):
                    out += out_frame.to_ndarray().tobytes()
                if len(out) > limit:
                    raise AudioTooLong(f"longer than {max_seconds} s")
            for out_frame in resampler.resample(None):
                out += out_frame.to_ndarray().tobytes()
    except (AudioTooLong, CorruptAudio):
        raise
    except (av.FFmpegError, ValueError, IndexError, EOFError, OSError) as err:
        if demuxer is not None:  # a wrong hint should not lose a good file: let FFmpeg probe
            return _decode_container(data, None, max_seconds)
        raise CorruptAudio(f"cannot decode audio: {err}") from err
    return bytes(out)


def resample(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Resample mono s16 PCM with FFmpeg's resampler."""
    if src_rate == dst_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
    frame.sample_rate = src_rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=dst_rate)
    out = bytearray()
    for f in [*resampler.resample(frame), *resampler.resample(None)]:
        out += f.to_ndarray().tobytes()
    return bytes(out)


def encode(pcm: bytes, fmt: str, rate: int = RATE, bit_rate: int | None = None) -> bytes:
    """Encode mono s16 PCM at `rate` into one of OUT_FORMATS (bit_rate overrides the default)."""
    if fmt in ("pcm16k", "pcm8k"):
        return resample(pcm, rate, 8000 if fmt == "pcm8k" else RATE)
    if fmt == "mulaw8k":
        return mulaw_encode(resample(pcm, rate, 8000))
    specs = {  # container, codec, sample rate, bit rate
        "wav": ("wav", "pcm_s16le", rate, None),
        "mp3": ("mp3", "libmp3lame", 16000 if rate == RATE else rate, 32000),
        "ogg": ("ogg", "libopus", 48000, 24000),
        "amr": ("amr", "libopencore_amrnb", 8000, 12200),
    }
    if fmt not in specs:
        raise EncodeError(f"unknown output format {fmt!r}; use one of {OUT_FORMATS}")
    container_fmt, codec, out_rate, default_rate = specs[fmt]
    try:
        return _encode_container(
            resample(pcm, rate, out_rate), container_fmt, codec, out_rate, bit_rate or default_rate
        )
    except av.FFmpegError as err:
        raise EncodeError(f"cannot encode {fmt}: {err}") from err


def _encode_container(pcm: bytes, container_fmt: str, codec: str, rate: int, bit_rate: int | None) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container_fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        if bit_rate:
            stream.bit_rate = bit_rate
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame) if samples.size else []:
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def _mulaw_tables() -> tuple[np.ndarray, np.ndarray]:
    codes = np.arange(256, dtype=np.int32)
    u = ~codes & 0xFF
    sign, exponent, mantissa = u & 0x80, (u >> 4) & 0x07, u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    decode_table = np.where(sign != 0, -magnitude, magnitude).astype(np.int16)
    # Encoding follows the ITU G.711 reference (14-bit magnitude, bias 0x21, segment search).
    x = np.arange(-32768, 32768, dtype=np.int32) >> 2
    mask = np.where(x < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(x), 8159) + 0x21
    seg = np.searchsorted(np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF]), mag)
    encode_table = np.where(seg >= 8, 0x7F, (seg << 4) | ((mag >> (seg + 1)) & 0x0F)) ^ mask
    return decode_table, (encode_table & 0xFF).astype(np.uint8)


_ULAW_DECODE, _ULAW_ENCODE = _mulaw_tables()


def mulaw_decode(data: bytes) -> bytes:
    """G.711 µ-law bytes → s16 LE PCM (same rate)."""
    return _ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()


def mulaw_encode(pcm: bytes) -> bytes:
    """s16 LE PCM → G.711 µ-law bytes (same rate)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.int32)
    return _ULAW_ENCODE[samples + 32768].tobytes()


def duration(pcm: bytes, rate: int = RATE) -> float:
    """Seconds of mono s16 PCM."""
    return len(pcm) / 2 / rate
