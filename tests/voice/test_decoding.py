"""The decoding the product ships (config.yaml's asr section), on real model output: residents are decoded
with no prompt but a state's hints, and a fast talker's last words are not cut off by the output cap."""

from __future__ import annotations

import subprocess

import pytest

from core.settings import load_settings
from tests.voice.conftest import FIXTURES
from voice import codecs
from voice.asr import Transcriber, Transcript
from voice.asr_whisper import _ZHE, ShortJob, WhisperTranscriber
from voice.service import build_transcriber
from voice.vocabulary import catalog_vocabulary

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped(whisper: Transcriber) -> WhisperTranscriber:  # the session model is assembled first
    settings = load_settings()
    assert settings.asr.backend == "whisper" and not settings.asr.whisper_catalog_prompt
    transcriber = build_transcriber(settings)
    assert isinstance(transcriber, WhisperTranscriber)
    return transcriber


def _fixture(*names: str) -> bytes:
    return b"".join(codecs.decode((FIXTURES / n).read_bytes(), "ogg") for n in names)


def _faster(pcm: bytes, tempo: float) -> bytes:
    raw = ["-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1"]
    return subprocess.run(
        ["sox", *raw, "-", *raw, "-", "tempo", str(tempo)], input=pcm, capture_output=True, check=True
    ).stdout


def test_no_prompt_unless_a_state_gives_hints(shipped: WhisperTranscriber) -> None:
    tok = shipped.tokenizer
    pcm = _fixture("req01_water_pipe.ogg")
    open_turn = shipped.plan(pcm)
    assert isinstance(open_turn, ShortJob)
    assert open_turn.tokens[0] == tok.sot and tok.sot_prev not in open_turn.tokens
    awaiting = shipped.plan(pcm, hints=("幸福里小区3栋",))
    assert isinstance(awaiting, ShortJob) and awaiting.tokens[0] == tok.sot_prev
    prompt = tok.decode([t for t in awaiting.tokens if t < tok.eot])
    assert "幸福里小区3栋" in prompt and "水管" not in prompt  # the hints, not the catalog's words
    heard = shipped.transcribe(pcm)
    assert isinstance(heard, Transcript) and "水管" in heard.text


def test_catalog_prompt_is_an_option(shipped: WhisperTranscriber) -> None:
    settings = load_settings(environ={"LIANHU_ASR_WHISPER_CATALOG_PROMPT": "true"})
    with_words = build_transcriber(settings)
    assert isinstance(with_words, WhisperTranscriber)
    job = with_words.plan(_fixture("req01_water_pipe.ogg"))
    tok = with_words.tokenizer
    assert isinstance(job, ShortJob) and job.tokens[0] == tok.sot_prev
    words = catalog_vocabulary(settings.path(settings.paths.catalog))
    assert words[0] in tok.decode([t for t in job.tokens if t < tok.eot])


@pytest.mark.parametrize("tempo", [1.5, 1.7])
def test_a_fast_talker_is_heard_to_the_end(shipped: WhisperTranscriber, tempo: float) -> None:
    """Three requests read back to back, sped up: the last one (「…办得怎么样了」) must still be there. The
    cap on the output (against loops) once stopped at 10 tokens a second and cut it off."""
    pcm = _faster(_fixture("req05_home_care.ogg", "req09_parking.ogg", "req13_status.ogg"), tempo)
    heard = shipped.transcribe(pcm)
    assert isinstance(heard, Transcript)
    assert "打扫卫生" in heard.text or "上门" in heard.text, heard.text
    assert "门口" in heard.text and "挡住" in heard.text, heard.text
    assert heard.text.rstrip("。？！?").endswith(("怎么样了", "怎么样呢", "怎么样")), heard.text


def test_the_particle_zhe_in_simplified_characters() -> None:
    """Whisper writes the particle 着 as 著, which OpenCC keeps (著 is simplified too, as in 著名)."""
    said = {"一直站著不走": "一直站着不走", "带著孩子": "带着孩子", "著名作家": "著名作家", "显著": "显著"}
    assert {text: _ZHE.sub("着", text) for text in said} == said
    assert _ZHE.sub("着", "他所著的书是名著") == "他所著的书是名著"
