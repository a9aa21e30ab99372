"""Homophone repair: put back domain words a speech recogniser wrote with the wrong characters.

Sounds are compared toneless and with south-western merges (n/l, f/hu, z/zh, c/ch, s/sh, an/ang, en/eng,
in/ing), so 楼到 -> 楼道 and 滑粪池 -> 化粪池. A window is only rewritten when it shares at least one
character with the domain word and differs in few, which keeps ordinary words from being "repaired";
and a window that is itself a common word (水果, 糊口: jieba's dictionary, frequency >= COMMON_FREQ) is
left as written, since a recogniser or an input method wrote a real word there.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

COMMON_FREQ = 50
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
        # A window can only be repaired towards a word it shares a character with, so every domain word is
        # indexed under each of its characters (with that character's position).
        self._anchors: dict[str, list[tuple[str, int, tuple[str, ...]]]] = {}
        sounds: set[str] = set()
        for word in sorted(set(words), key=lambda w: (-len(w), w)):
            keys = word_keys(word)
            if len(word) >= 2 and len(keys) == len(word):
                sounds.update(keys)
                for j, ch in enumerate(word):
                    self._anchors.setdefault(ch, []).append((word, j, keys))
        self._chars = char_table(sounds)
        self._common: frozenset[str] = frozenset()
        self._common = frozenset(w for w in _common_words() if self._misread(w))

    def keys(self, ch: str) -> frozenset[str]:
        return self._chars.get(ch, frozenset())

    def _sounds_like(self, seg: str, word: str, keys: tuple[str, ...]) -> bool:
        """Same sound, and few characters differ (at most 1, or a third of a long word)."""
        budget = max(1, len(word) // 3)
        empty: frozenset[str] = frozenset()
        for c, w, k in zip(seg, word, keys, strict=True):
            if c != w:
                budget -= 1
                if budget < 0 or k not in self._chars.get(c, empty):
                    return False
        return True

    def _misread(self, word: str) -> bool:
        """True when the repair would rewrite the whole of `word` as another word."""
        found = self._starts(word).get(0, word)
        return found != word and len(found) == len(word)

    def _starts(self, text: str) -> dict[int, str]:
        """Longest domain word that text matches (exactly or by sound) at each start position."""
        best: dict[int, str] = {}
        seen: dict[
            tuple[str, str], bool
        ] = {}  # (window, word) -> verdict: a word is reached from each of its chars
        n = len(text)
        for p, ch in enumerate(text):
            for word, j, keys in self._anchors.get(ch, ()):
                start = p - j
                size = len(word)
                if start < 0 or start + size > n or len(best.get(start, "")) >= size:
                    continue
                seg = text[start : start + size]
                if seg == word:
                    best[start] = word
                    continue
                if seg in self._common:
                    continue
                verdict = seen.get((seg, word))
                if verdict is None:
                    verdict = seen[(seg, word)] = self._sounds_like(seg, word, keys)
                if verdict:
                    best[start] = word
        return best

    def repair(self, text: str) -> str:
        starts = self._starts(text)
        if not starts:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            word = starts.get(i)
            out.append(word or text[i])
            i += len(word) if word else 1
        return "".join(out)


def _common_words() -> Iterable[str]:
    """Everyday words of two or more characters (build time only)."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return (w for w, f in jieba.dt.FREQ.items() if f >= COMMON_FREQ and len(w) >= 2)
