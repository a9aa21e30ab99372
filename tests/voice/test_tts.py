"""Live synthesis: espeak-ng offline; gTTS online with an offline fallback on any error."""

from __future__ import annotations

import pytest

from voice.tts import Audio, Synthesizer, load_synthesizer, trim
from voice.tts_gtts import GttsSynthesizer


def test_espeak_speaks_mandarin_slowly() -> None:
    espeak = load_synthesizer("espeak", espeak_speed=130)
    fast = load_synthesizer("espeak", espeak_speed=200)
    audio = espeak.synthesize("您好，请说一下地址。")
    assert audio.rate == 16000 and audio.seconds > 1.0
    assert audio.seconds > fast.synthesize("您好，请说一下地址。").seconds  # slower delivery
    assert espeak.offline


def test_empty_text_is_empty_audio() -> None:
    assert load_synthesizer("espeak").synthesize("  ").pcm == b""


class _Recorder(Synthesizer):
    name = "recorder"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def synthesize(self, text: str) -> Audio:
        self.texts.append(text)
        return Audio(b"\x01\x00" * 1600)


def test_gtts_without_google_falls_back_offline() -> None:
    """This machine cannot reach Google, like servers in mainland China: the fallback must answer."""
    fallback = _Recorder()
    gtts = GttsSynthesizer(fallback=fallback, timeout=5.0)
    audio = gtts.synthesize("您好")
    assert audio.pcm and not gtts.offline
    assert fallback.texts == ["您好"]


def test_gtts_fallback_on_any_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fallback = _Recorder()
    gtts = GttsSynthesizer(fallback=fallback, timeout=0.5)

    def broken(text: str) -> bytes:
        return b"<html>quota exceeded</html>"  # not audio

    monkeypatch.setattr(gtts, "_fetch", broken)
    assert gtts.synthesize("测试").pcm
    assert fallback.texts == ["测试"]


def test_unknown_backend() -> None:
    with pytest.raises(ValueError):
        load_synthesizer("festival")


def test_trim_cuts_silence() -> None:
    pcm = b"\x00\x00" * 8000 + b"\x00\x10" * 1600 + b"\x00\x00" * 8000
    assert len(trim(pcm)) < 2 * (1600 + 2 * 480 + 10)
