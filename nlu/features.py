"""Features of a normalized message: character n-grams plus a few Rasa-style word, regex and lookup flags."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

_DIGITS = re.compile(r"\d+")
LENGTH_FEATURE = "len:"  # the message length bucket, the one feature every message has
_OPENERS = ("喂",)  # phone openers: normalization drops them as fillers, yet they mark a greeting


def _digit_shape(match: re.Match[str]) -> str:
    n = len(match.group())
    return "Ⓣ" if n == 6 else "Ⓟ" if n >= 7 else "Ⓓ"  # ticket-like, phone-like, other number


class Featurizer:
    """Turns normalized text into a bag of string features (counts)."""

    def __init__(
        self,
        keywords: Mapping[str, Iterable[str]],
        regexes: Mapping[str, Iterable[str]],
        lookups: Mapping[str, Iterable[str]],
    ) -> None:
        self._keywords = [(w, item) for item, words in keywords.items() for w in words if len(w) >= 2]
        self._regexes = [
            (name, re.compile("|".join(f"(?:{p})" for p in pats))) for name, pats in regexes.items() if pats
        ]
        self._lookups = [
            (name, re.compile("|".join(map(re.escape, words)))) for name, words in lookups.items() if words
        ]

    def __call__(self, text: str, surface: str = "") -> Counter[str]:
        """Features of normalized `text`; `surface` (the message before filler removal) adds its opener."""
        shaped = _DIGITS.sub(_digit_shape, text.replace(" ", ""))
        padded = f"^{shaped}$"
        feats: Counter[str] = Counter()
        feats.update(shaped)  # unigrams without the constant ^ and $ markers
        for n in (2, 3):
            feats.update(padded[i : i + n] for i in range(len(padded) - n + 1))
        feats[f"{LENGTH_FEATURE}{min(len(shaped), 12) // 3}"] += 1
        if surface.startswith(_OPENERS):
            feats[f"open:{surface[0]}"] += 1
        for word, item in self._keywords:
            if word in text:
                feats[f"kw:{item}"] += 1
        for name, pattern in self._regexes:
            if pattern.search(text):
                feats[f"re:{name}"] += 1
        for name, pattern in self._lookups:
            if pattern.search(text):
                feats[f"lk:{name}"] += 1
        return feats
