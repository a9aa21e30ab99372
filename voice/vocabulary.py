"""Recognition vocabulary from the demand catalog: item and category names first, then keywords."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.catalog import DemandCatalog


def catalog_vocabulary(catalog_path: str | Path) -> tuple[str, ...]:
    """Names and keywords of the demand catalog, most important first, without duplicates."""
    return DemandCatalog.load(catalog_path).vocabulary()


def catalog_names(catalog_path: str | Path) -> tuple[str, ...]:
    """Category and item names only (what the prompt library pre-records)."""
    return DemandCatalog.load(catalog_path).names()


def initial_prompt(vocabulary: Sequence[str], hints: Sequence[str] = (), max_words: int = 30) -> str:
    """A short simplified-Chinese prompt that nudges Whisper toward the community's words, or ""
    (no prompt) when there are no words: on real recordings any prompt, even a plain sentence, cost
    characters (voice/evalsets/README.md).

    Long comma lists make Whisper copy the list or emit broken tokens; words joined with 、 after a
    plain sentence.
    """
    words = list(dict.fromkeys([*hints, *vocabulary]))[:max_words]
    if not words:
        return ""
    return "以下是普通话的句子，关于社区服务：" + "、".join(words) + "。"
