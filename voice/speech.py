"""Assemble a rendered reply into speech: prompt audio for fixed pieces, names and digits, live
synthesis only for the free text the library cannot cover. Short pauses between parts, longer
after sentence punctuation, numbers digit by digit in groups."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from core.render import Part, Rendered
from voice.prompts import DIGIT_WORDS, PromptLibrary, normalize
from voice.tts import RATE, Synthesizer, silence

PART_GAP_MS = 120
CLAUSE_PAUSE_MS = 280  # after ，、：
SENTENCE_PAUSE_MS = 450  # after 。！？
DIGIT_GAP_MS = 110
DIGIT_GROUP_MS = 320
_QUANTITY = re.compile(r"[1-9]\d")  # two-digit amounts ("24 小时") read as numbers, not digits


@dataclass(frozen=True)
class Speech:
    pcm: bytes  # 16 kHz mono s16 LE
    live_texts: tuple[str, ...] = ()  # pieces that needed live synthesis (none is best)

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / RATE


class SpeechAssembler:
    """Built once with the prompt library and the live synthesizer for free text."""

    def __init__(self, library: PromptLibrary, live: Synthesizer) -> None:
        self.library = library
        self.live = live
        self._live_cached = lru_cache(maxsize=256)(self._synthesize_live)

    def assemble(self, reply: Rendered | str) -> Speech:
        """PCM for a rendered reply (or plain text, spoken as free text)."""
        parts: Iterable[Part] = reply.parts if isinstance(reply, Rendered) else (Part("free", reply),)
        chunks: list[bytes] = []
        live: list[str] = []
        for part in parts:
            pcm = self._part(part, live)
            if not pcm:
                continue
            if chunks:
                chunks.append(silence(PART_GAP_MS))
            chunks.append(pcm)
            chunks.append(silence(_pause_after(part.text)))
        return Speech(b"".join(chunks).rstrip(b"\x00") or b"", tuple(live))

    def _part(self, part: Part, live: list[str]) -> bytes:
        if part.kind == "digits":
            return self.digits(part.text, live)
        prompt = self.library.get(part.text)
        if prompt is not None:
            return prompt
        return self.free(part.text, live)

    def digits(self, text: str, live: list[str]) -> bytes:
        """Read a number digit by digit (grouped in threes/fours); two-digit amounts as numbers."""
        if _QUANTITY.fullmatch(text):
            tens, ones = text[0], text[1]
            words = (
                ([] if tens == "1" else [DIGIT_WORDS[tens]])
                + ["十"]
                + ([DIGIT_WORDS[ones]] if ones != "0" else [])
            )
            return b"".join(self._word(w, live) for w in words)
        only = [c for c in text if c.isdigit()]
        groups = _groups(len(only))
        out: list[bytes] = []
        pos = 0
        for size in groups:
            if out:
                out.append(silence(DIGIT_GROUP_MS))
            out.append(
                silence(DIGIT_GAP_MS).join(self._word(DIGIT_WORDS[c], live) for c in only[pos : pos + size])
            )
            pos += size
        return b"".join(out)

    def free(self, text: str, live: list[str]) -> bytes:
        """Cover free text with prompts where that keeps the voice steady; synthesize the rest.

        Digits and address words always come from prompts; other prompt words are used only when
        they do not sit between live pieces (one voice per stretch sounds better than a patchwork).
        """
        tokens: list[tuple[str, bytes | None]] = []  # (text, prompt audio or None for live)
        i = 0
        while i < len(text):
            match = self._longest(text, i)
            if match is None:
                if tokens and tokens[-1][1] is None:
                    tokens[-1] = (tokens[-1][0] + text[i], None)
                else:
                    tokens.append((text[i], None))
                i += 1
                continue
            size, pcm = match
            tokens.append((text[i : i + size], pcm))
            i += size
        tokens = _demote(tokens)
        out = [
            pcm if pcm is not None else self._live(piece, live)
            for piece, pcm in tokens
            if normalize(piece) or pcm is not None
        ]
        return silence(60).join(p for p in out if p)

    def _longest(self, text: str, i: int) -> tuple[int, bytes] | None:
        if text[i].isdigit():
            j = i
            while j < len(text) and text[j].isdigit():
                j += 1
            return j - i, self.digits(text[i:j], [])
        for size in range(min(self.library.max_len, len(text) - i), 0, -1):
            pcm = self.library.get(text[i : i + size]) if normalize(text[i : i + size]) else None
            if pcm is not None:
                return size, pcm
        return None

    def _word(self, word: str, live: list[str]) -> bytes:
        pcm = self.library.get(word)
        return pcm if pcm is not None else self._live(word, live)

    def _live(self, text: str, live: list[str]) -> bytes:
        live.append(text)
        return self._live_cached(text.strip())

    def _synthesize_live(self, text: str) -> bytes:
        return self.live.synthesize(text).pcm


ANCHORED = {"栋", "单元", "室", "号", "号楼", "楼", "层", "幢", "座", "户", "小时", "分钟", "天", "件"}


def _demote(tokens: list[tuple[str, bytes | None]]) -> list[tuple[str, bytes | None]]:
    """Merge prompt words that neighbour live text into the live run (digits and address words stay)."""

    def keep(piece: str, pcm: bytes | None) -> bool:
        return pcm is not None and (piece.isdigit() or normalize(piece) in ANCHORED)

    merged: list[tuple[str, bytes | None]] = []
    for n, (piece, pcm) in enumerate(tokens):
        near_live = any(
            0 <= m < len(tokens) and tokens[m][1] is None and normalize(tokens[m][0]) for m in (n - 1, n + 1)
        )
        if pcm is not None and near_live and not keep(piece, pcm):
            pcm = None
        if pcm is None and merged and merged[-1][1] is None:
            merged[-1] = (merged[-1][0] + piece, None)
        else:
            merged.append((piece, pcm))
    return merged


def _groups(n: int) -> list[int]:
    """Digit grouping for listening: 3 → [3], 6 → [3, 3], 11 (phone) → [3, 4, 4]."""
    if n <= 4:
        return [n] if n else []
    if n == 11:
        return [3, 4, 4]
    groups = [3] * (n // 3)
    if n % 3:
        groups[-1] += n % 3
    return groups


def _pause_after(text: str) -> int:
    tail = text.rstrip()[-1:] if text.strip() else ""
    if tail in "。！？.!?":
        return SENTENCE_PAUSE_MS
    if tail in "，、：；,:;":
        return CLAUSE_PAUSE_MS
    return 0
