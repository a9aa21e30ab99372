"""Red-flag layer: lexicon patterns for live emergencies, with hedges (怕, 上次) and negations (没有)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nlu.resources import RedFlag

_CLAUSE_END = re.compile(r"[,.!?;~]")


@dataclass(frozen=True)
class Hit:
    kind: str
    item: str | None
    text: str


class RedFlagDetector:
    """Finds the first live (not hedged, not negated) red flag in normalized text."""

    def __init__(
        self,
        flags: Iterable[RedFlag],
        hedges: Iterable[str],
        negations: Iterable[str],
        after: Iterable[str] = (),
    ) -> None:
        self._flags = [(f, re.compile("|".join(f"(?:{p})" for p in f.patterns))) for f in flags]
        self._hedges = tuple(hedges)
        self._negations = tuple(negations)
        self._after = tuple(after)

    def _live(self, text: str, start: int, end: int) -> bool:
        if text.startswith(self._after, end):
            return False
        clause_start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, start)), default=0)
        before = text[clause_start:start]
        if any(h in before for h in self._hedges):
            return False
        return not before.endswith(self._negations) and not before[:-1].endswith(self._negations)

    def detect(self, text: str) -> Hit | None:
        """The first live red flag, or None."""
        return self.scan(text)[0]

    def scan(self, text: str) -> tuple[Hit | None, bool]:
        """(first live red flag, whether some red flag was hedged or negated)."""
        muted = False
        for flag, pattern in self._flags:
            for m in pattern.finditer(text):
                if self._live(text, m.start(), m.end()):
                    return Hit(flag.kind, flag.item, m.group()), muted
                muted = True
        return None, muted
