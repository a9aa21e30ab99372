"""The speech evaluation: CER on known strings, and a tiny clip directory scored end to end with the
real model (loaded once per session) and the real understanding model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from tests.voice.conftest import CLIPS, ROOT, fixture_pcm
from voice.evaluation import (
    Clip,
    ClipResult,
    EvalReport,
    cer,
    cer_text,
    compare,
    confusions,
    evaluate,
    recognizer,
    write_table,
)

needs_clips = pytest.mark.skipif(not CLIPS.is_dir(), reason=f"evaluation clips not present at {CLIPS}")
RUNNING = "paddleaudio_tests_zh.wav"  # clean read speech: 我认为跑步最重要的就是给我带来了身体健康


@pytest.mark.parametrize(
    ("reference", "heard", "expected"),
    [
        ("我家水管漏水了", "我家水管漏水了。", 0.0),  # punctuation is not scored
        ("三栋二单元五零二", "3栋2单元502", 0.0),  # digits said or written
        ("二十栋一单元", "20 栋 1 单元", 0.0),
        ("我爸中风了", "我罢重疯了", 0.6),
        ("煤气味道", "没去为道", 0.75),
        ("水管漏水", "", 1.0),
        ("he must be home 他在家", "他在家", 4 / 7),  # a Latin word is one unit
    ],
)
def test_cer_on_known_strings(reference: str, heard: str, expected: float) -> None:
    assert cer(reference, heard) == pytest.approx(expected)


def test_numerals_and_confusions() -> None:
    assert cer_text("八十多了，四零二") == "80多了 402"
    assert confusions("我爸中风了，煤气味道", "我罢重疯了，没去为道") == [
        ("爸中风", "罢重疯"),
        ("煤气味", "没去为"),
    ]
    assert confusions("水管", "水管") == []


def tiny_set(tmp_path: Path) -> Path:
    shutil.copy(CLIPS / RUNNING, tmp_path / RUNNING)
    shutil.copy(CLIPS / "wenetspeech_nst_ID003.wav", tmp_path / "filler.wav")
    with wave.open(str(tmp_path / "pipe.wav"), "wb") as out:  # a spoken request, as a 16 kHz WAV
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(fixture_pcm("req01_water_pipe.ogg"))
    write_table(
        tmp_path,
        [
            Clip(RUNNING, "我认为跑步最重要的就是给我带来了身体健康"),
            Clip("pipe.wav", "我家水管漏水了，三栋二单元五零二。", "report", "water_pipe"),
            Clip("filler.wav", "哦嗯"),
            Clip("missing.wav", "不在目录里的文件不算"),
        ],
    )
    return tmp_path


def scored(errors: list[int], length: int = 10) -> EvalReport:
    clips = [Clip(f"{i}.wav", "一" * length) for i in range(len(errors))]
    return EvalReport([ClipResult(c, "", 0.0, e, length, 0.1) for c, e in zip(clips, errors, strict=True)])


def test_two_decodings_compared_over_the_same_clips() -> None:
    even = compare(scored([1, 2, 0, 3]), scored([1, 2, 0, 3]))
    assert even["difference"] == 0 and even["difference_95"] == [0, 0] and even["share_worse"] == 0
    # One clip read far worse: the difference is real but its interval is wide on four clips.
    one = compare(scored([1, 2, 0, 9]), scored([1, 2, 0, 3]))
    assert one["cer"] == 0.3 and one["cer_other"] == 0.15 and one["difference"] == 0.15
    low, high = one["difference_95"]
    assert low == 0 and 0.15 < high <= 0.6 and 0.6 < one["share_worse"] < 0.75  # P(clip 4 drawn) = 68 %
    # Worse by one character on every clip: sure, and the interval is tight.
    every = compare(scored([2] * 20), scored([1] * 20))
    assert every["difference"] == 0.1 and every["difference_95"] == [0.1, 0.1] and every["share_worse"] == 1


@needs_clips
def test_directory_scored_end_to_end(tmp_path: Path, whisper, voice_parser) -> None:  # type: ignore[no-untyped-def]
    def classify(text: str) -> tuple[str, str | None]:
        parse = voice_parser.parse(text)
        return parse.intent, parse.item

    report = evaluate(tiny_set(tmp_path), recognizer(whisper, "ours"), classify)
    summary = report.summary(min_confidence=0.6)
    assert summary["clips"] == 3
    assert summary["cer"] < 0.2  # clean speech; the filler clip heard as nothing scores right
    assert summary["typed_right"] == summary["classified_right"] == 1.0
    assert summary["wrong_read_back"] + summary["wrong_slipped_through"] == 0


@needs_clips
@pytest.mark.slow
def test_voice_eval_command(tmp_path: Path, whisper) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "voice",
            "eval",
            str(tiny_set(tmp_path)),
            "--limit",
            "1",
            "--against",
            "plain",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["cer"] == 0.0 and summary["clips"] == 1
    assert summary["plain"]["clips"] == 1 and summary["compared"]["with"] == "plain"
