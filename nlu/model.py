"""A linear classifier over TF-IDF features: trained with scikit-learn, run with a few numpy lines."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class LinearModel:
    labels: tuple[str, ...]
    vocab: dict[str, int]
    idf: np.ndarray  # (n_features,)
    weights: np.ndarray  # (n_features, n_labels): one row per feature, gathered at parse time
    bias: np.ndarray  # (n_labels,)

    def probabilities(self, feats: Counter[str]) -> np.ndarray:
        """Softmax over labels for one bag of features."""
        idx = [self.vocab[f] for f in feats if f in self.vocab]
        if not idx:
            logits = self.bias
        else:
            counts = np.fromiter((1.0 + math.log(feats[f]) for f in feats if f in self.vocab), np.float32, len(idx))
            vals = counts * self.idf[idx]
            vals /= float(np.linalg.norm(vals)) or 1.0
            logits = vals @ self.weights[idx] + self.bias
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()


def _matrix(bags: Sequence[Counter[str]], vocab: dict[str, int], idf: np.ndarray):  # noqa: ANN202
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for r, bag in enumerate(bags):
        pairs = [(vocab[f], (1.0 + math.log(c)) * idf[vocab[f]]) for f, c in bag.items() if f in vocab]
        norm = math.sqrt(sum(v * v for _, v in pairs)) or 1.0
        for c, v in pairs:
            rows.append(r)
            cols.append(c)
            vals.append(v / norm)
    return csr_matrix((vals, (rows, cols)), shape=(len(bags), len(vocab)), dtype=np.float64)


def fit(bags: Sequence[Counter[str]], labels: Sequence[str], c: float = 20.0) -> LinearModel:
    """Fit multinomial logistic regression; returns the compact inference model."""
    from sklearn.linear_model import LogisticRegression

    df: Counter[str] = Counter(f for bag in bags for f in bag)
    vocab = {f: i for i, f in enumerate(sorted(df))}
    n = len(bags)
    idf = np.array([math.log((1 + n) / (1 + df[f])) + 1.0 for f in sorted(df)], dtype=np.float32)
    clf = LogisticRegression(C=c, max_iter=3000)
    clf.fit(_matrix(bags, vocab, idf), list(labels))
    weights = np.ascontiguousarray(clf.coef_.T, dtype=np.float32)
    return LinearModel(tuple(str(x) for x in clf.classes_), vocab, idf, weights, clf.intercept_.astype(np.float32))
