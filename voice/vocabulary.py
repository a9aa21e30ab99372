"""Recognition vocabulary from the demand catalog: item and category names first, then keywords."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml


def catalog_vocabulary(catalog_path: str | Path) -> tuple[str, ...]:
    """Names and keywords of data/catalog/demands.yaml, most important first, without duplicates."""
    raw: dict[str, Any] = yaml.safe_load(Path(catalog_path).read_text(encoding="utf-8")) or {}
    names: list[str] = []
    keywords: list[str] = []
    for category in raw.get("categories", []):
        names.append(str(category["name"]))
        for item in category.get("items", []):
            names.append(str(item["name"]))
            keywords.extend(str(k) for k in item.get("keywords", []))
    return tuple(dict.fromkeys([*names, *keywords]))


def catalog_names(catalog_path: str | Path) -> tuple[str, ...]:
    """Category and item names only (what the prompt library pre-records)."""
    raw: dict[str, Any] = yaml.safe_load(Path(catalog_path).read_text(encoding="utf-8")) or {}
    out: list[str] = []
    for category in raw.get("categories", []):
        out.append(str(category["name"]))
        out.extend(str(item["name"]) for item in category.get("items", []))
    return tuple(dict.fromkeys(out))


def initial_prompt(vocabulary: Sequence[str], hints: Sequence[str] = (), max_words: int = 30) -> str:
    """A short simplified-Chinese prompt that nudges Whisper toward the community's words.

    Long comma lists make Whisper copy the list or emit broken tokens; a dozen words joined
    with 、 after a plain sentence helps without hurting general speech.
    """
    words = list(dict.fromkeys([*hints, *vocabulary]))[:max_words]
    if not words:
        return "以下是普通话的句子。"
    return "以下是普通话的句子，关于社区服务：" + "、".join(words) + "。"
