"""Homophone repair: put back domain words a speech recogniser wrote with the wrong characters.

Sounds are compared toneless and with south-western merges (n/l, f/hu, z/zh, c/ch, s/sh, an/ang, en/eng,
in/ing), so 楼到 -> 楼道 and 滑粪池 -> 化粪池. A window is only rewritten when it shares at least one
character with the domain word and differs in few, which keeps ordinary words from being "repaired".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

_HU_TO_F = {"u": "u", "ua": "a", "uai": "ai", "uan": "an", "uang": "an", "ui": "ei", "un": "en", "uo": "o"}


def fuzzy(syllable: str) -> str:
    """Canonical south-western form of a toneless pinyin syllable."""
    s = syllable.lower().replace("ü", "v")
    for retro, flat in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if s.startswith(retro):
            s = flat + s[2:]
    if s.startswith("n"):
        s = "l" + s[1:]
    if s.startswith("h") and s[1:] in _HU_TO_F:
        s = "f" + _HU_TO_F[s[1:]]
    for back, front in (("ang", "an"), ("eng", "en"), ("ing", "in")):
        if s.endswith(back):
            s = s[: -len(back)] + front
    return s


def _strip_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable.replace("ü", "v"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def word_keys(word: str) -> tuple[str, ...]:
    """Fuzzy reading of a word, using pypinyin's phrase knowledge for heteronyms."""
    from pypinyin import Style, lazy_pinyin  # heavy import: build time only

    return tuple(fuzzy(s) for s in lazy_pinyin(word, style=Style.NORMAL))


def char_table(relevant: set[str]) -> dict[str, frozenset[str]]:
    """Fuzzy readings of every character that has a reading in `relevant` (the domain's sounds)."""
    from pypinyin.pinyin_dict import pinyin_dict

    table = {}
    for code, readings in pinyin_dict.items():
        keys = frozenset(fuzzy(_strip_tone(r)) for r in readings.split(",")) & relevant
        if keys:
            table[chr(code)] = keys
    return table


class HomophoneRepairer:
    """Rewrites sound-alike windows to the domain word they stand for. Built once, then pickled."""

    def __init__(self, words: Iterable[str]) -> None:
        self._index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for word in sorted(set(words), key=lambda w: (-len(w), w)):
            keys = word_keys(word)
            if len(word) >= 2 and len(keys) == len(word):
                self._index.setdefault(keys[0], []).append((word, keys))
        self._chars = char_table({k for entries in self._index.values() for _, keys in entries for k in keys})

    def keys(self, ch: str) -> frozenset[str]:
        return self._chars.get(ch, frozenset())

    def _match(self, text: str, i: int) -> tuple[str, bool] | None:
        """Best domain word sounding like text at i: (word, exact) or None."""
        for key in self.keys(text[i]):
            for word, keys in self._index.get(key, ()):
                seg = text[i : i + len(word)]
                if len(seg) < len(word):
                    continue
                if seg == word:
                    return word, True
                shared = sum(a == b for a, b in zip(seg, word, strict=True))
                if shared == 0 or len(word) - shared > max(1, len(word) // 3):
                    continue
                if all(k in self.keys(c) for k, c in zip(keys, seg, strict=True)):
                    return word, False
        return None

    def repair(self, text: str) -> str:
        out: list[str] = []
        i = 0
        while i < len(text):
            found = self._match(text, i)
            if found is None:
                out.append(text[i])
                i += 1
                continue
            word, _exact = found
            out.append(word)
            i += len(word)
        return "".join(out)
