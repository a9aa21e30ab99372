"""Build, fingerprint, cache and load everything the parser needs as one pickled bundle."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

import core.catalog as catalog_module
from nlu.embeddings import WordVectors, load_vectors, source_id
from nlu.features import Featurizer
from nlu.model import LinearModel, fit
from nlu.normalize import Normalizer
from nlu.resources import LEXICON_DIR, PACKAGE_DIR, Resources, load_resources
from nlu.risk import RiskLayer
from nlu.semantic import DangerBank
from nlu.training import TrainingData, load_training, split_label, training_files

FORMAT_VERSION = 8
SAFETY_TUNING = tuple(PACKAGE_DIR / "evalsets" / name for name in ("safety_dev.yml", "safety_check.yml"))
# The danger and live models learn from forty writers' tuning lines (A's dev half, B, and C to AN as
# check3-40); never the final half, nor a set kept for measuring.
DANGER_TRAINING = tuple(
    PACKAGE_DIR / "evalsets" / f"safety_{name}.yml"
    for name in ("dev", "check", *(f"check{n}" for n in range(3, 41)))
)
DANGER_REPEAT = 3  # a line written apart counts three times a training line (chosen leaving one writer out)
DANGER_C = 2.0
CORE_CATALOG = Path(catalog_module.__file__)  # the catalog's types are pickled in the bundle
_CORE_STRIP = re.compile(r"[\W_]+")
_PARTICLES = "嘛吧呢啊呀哦哈噻嘞咯啰喔"
_REPEATED = re.compile(r"(.{1,4}?)\1+")


def core(text: str) -> str:
    """Text without punctuation, spaces and trailing particles: the key of the exact-match memory."""
    stripped = _CORE_STRIP.sub("", text)
    return stripped.rstrip(_PARTICLES) or stripped


def unrepeated(key: str) -> str | None:
    """The unit of a key that is one word said again and again (不用不用, 没有没有, 喂喂), else None."""
    match = _REPEATED.fullmatch(key)
    return match.group(1) if match else None


def recall(memory: dict[str, str], key: str) -> str | None:
    """The remembered label of a key, or of its unit when the key repeats one remembered word."""
    label = memory.get(key)
    if label is None and (unit := unrepeated(key)) is not None:
        label = memory.get(unit)
    return label


@dataclass
class Bundle:
    version: int
    fingerprint: str
    resources: Resources
    normalizer: Normalizer
    featurizer: Featurizer
    vectors: WordVectors  # the message's word vector feeds both models
    model: LinearModel  # one label per Rasa intent (report_<item>, query_status, ...)
    intent_model: LinearModel  # the same features, reports pooled into one `report` label
    memory: dict[str, str]  # core(normalized example) -> label, where unambiguous
    persons: dict[str, str]  # surface -> canonical person (Rasa synonyms)
    train_seconds: float
    danger: DangerBank | None = None  # example lines the semantic risk check compares with
    danger_model: LinearModel | None = None  # emergency or not, learned from how other writers say danger
    live_model: LinearModel | None = None  # the same, only on messages where the risk layer found a cue


def fingerprint(catalog_path: str | Path, training_dir: str | Path, lexicon_dir: Path = LEXICON_DIR) -> str:
    """Hash of every input of training: catalog, training files, lexicon, word vectors and this package's code."""
    digest = hashlib.sha256(f"v{FORMAT_VERSION}\t{source_id()}".encode())
    paths = [Path(catalog_path), *training_files(training_dir), *sorted(Path(lexicon_dir).glob("*.yaml"))]
    paths += [
        *sorted(PACKAGE_DIR.glob("*.py")),
        CORE_CATALOG,
        *(p for p in dict.fromkeys(SAFETY_TUNING + DANGER_TRAINING) if p.exists()),
    ]
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build(
    catalog_path: str | Path,
    training_dir: str | Path,
    examples: Sequence[tuple[str, str]] | None = None,
    lexicon_dir: Path = LEXICON_DIR,
    *,
    semantic: bool = True,
) -> Bundle:
    """Train from the files (or from `examples`, a subset, for evaluation). `semantic=False` leaves out
    the semantic risk check's examples (it only ever asks the safety question, never changes the
    intent, so intent and item figures do not need it)."""
    started = time.perf_counter()
    resources = load_resources(catalog_path, lexicon_dir)
    data: TrainingData = load_training(training_dir)
    examples = data.examples if examples is None else examples
    normalizer = Normalizer(resources.dialect, resources.domain_words, resources.spoken_words)
    normalizer.spoken_repairer()  # built now, so the cached bundle holds it
    keywords = {code: item.keywords for code, item in resources.items.items()}
    featurizer = Featurizer(keywords, data.regexes, data.lookups)
    surfaces = [normalizer.surface(text) for text, _ in examples]
    texts = [normalizer.from_surface(s) for s in surfaces]
    labels = [label for _, label in examples]
    bags = [featurizer(t, s) for t, s in zip(texts, surfaces, strict=True)]
    vectors = load_vectors()
    embeddings = np.vstack([vectors(t) for t in texts]) if texts else None
    model = fit(bags, labels, embeddings)
    intent_model = fit(bags, [split_label(label, resources.items)[0] for label in labels], embeddings)
    memory: dict[str, str] = {}
    clashes: set[str] = set()
    for text, label in zip(texts, labels, strict=True):
        key = core(text)
        if memory.get(key, label) != label:
            clashes.add(key)
        memory[key] = label
    for key in clashes:
        memory.pop(key)
    persons = {surface: value for surface, value in data.synonyms.items() if value in PERSON_VALUES}
    danger = (
        DangerBank.build(
            [(text, label == "emergency") for text, label in examples] + safety_examples(SAFETY_TUNING),
            lambda text: vectors(normalizer(text)),
        )
        if semantic
        else None
    )
    danger_model = live_model = None
    if semantic:
        assert resources.risk is not None
        lines = DangerLines.of(
            surfaces, texts, labels, normalizer, featurizer, vectors, RiskLayer(resources.risk)
        )
        danger_model, live_model = lines.fit(DANGER_TRAINING)
    fp = fingerprint(catalog_path, training_dir, lexicon_dir)
    return Bundle(FORMAT_VERSION, fp, resources, normalizer, featurizer, vectors, model, intent_model, memory,
                  persons, time.perf_counter() - started, danger, danger_model, live_model)  # fmt: skip


_STOPS = re.compile(r"[\s.!?;~。！？；～]+")
_END = ",，、"


def danger_bag(featurizer: Featurizer, text: str, surface: str) -> Counter[str]:
    """The danger model's features: the message's, with every full stop read as a comma and none at the
    end (a full stop is no sign of danger, yet the writers' emergencies, longer than the rest, held
    more of them: 「就在我家门口。3栋2单元502」 was an alert, with a comma it is not); a space, where a
    recognizer heard a pause, is a comma too (「我一个人在屋头 心头好怕」 was an alert, with a comma it is not)."""
    return featurizer(_STOPS.sub(",", text).rstrip(_END), surface)


@dataclass
class DangerLines:
    """What the danger and live models learn from: the training lines and the lines written apart, each
    as its danger bag, word vector, whether it is an emergency and whether the risk layer found a cue."""

    normalizer: Normalizer
    featurizer: Featurizer
    vectors: WordVectors
    risk: RiskLayer
    base: list[tuple[Counter[str], np.ndarray, bool, bool]]

    @classmethod
    def of(
        cls,
        training_surfaces: Sequence[str],
        texts: Sequence[str],
        labels: Sequence[str],
        normalizer: Normalizer,
        featurizer: Featurizer,
        vectors: WordVectors,
        risk: RiskLayer,
    ) -> DangerLines:
        """The training lines, and the answers to the dialogue's own questions (nlu/lexicon/answers.yaml)
        as lines that are not an emergency."""
        lines = cls(normalizer, featurizer, vectors, risk, [])
        lines.base = [
            lines._line(s, t, label == "emergency")
            for s, t, label in zip(training_surfaces, texts, labels, strict=True)
        ]
        raw = yaml.safe_load((LEXICON_DIR / "answers.yaml").read_text(encoding="utf-8"))
        for text in raw["lines"]:
            surface = normalizer.surface(str(text))
            lines.base.append(lines._line(surface, normalizer.from_surface(surface), False))
        return lines

    def _line(self, surface: str, text: str, danger: bool) -> tuple[Counter[str], np.ndarray, bool, bool]:
        cued = bool(self.risk.assess(surface, text).cues)
        return danger_bag(self.featurizer, text, surface), self.vectors(text), danger, cued

    def fit(self, paths: Sequence[Path]) -> tuple[LinearModel, LinearModel]:
        """The danger model (every line) and the live model (lines with a risk cue); a line written apart
        counts DANGER_REPEAT times a training line."""
        apart = []
        for text, danger in safety_examples(paths):
            surface = self.normalizer.surface(text)
            apart.append(self._line(surface, self.normalizer.from_surface(surface), danger))
        rows = [*self.base, *apart * DANGER_REPEAT]

        def fit_on(chosen: list[tuple[Counter[str], np.ndarray, bool, bool]]) -> LinearModel:
            ys = ["emergency" if danger else "other" for _, _, danger, _ in chosen]
            return fit([bag for bag, *_ in chosen], ys, np.vstack([vec for _, vec, *_ in chosen]), c=DANGER_C)

        return fit_on(rows), fit_on([row for row in rows if row[3]])


def safety_examples(paths: Sequence[Path]) -> list[tuple[str, bool]]:
    """Lines of the tuning halves of the sets written apart (nlu/evalsets): the semantic check's
    examples of how residents say danger and near-danger. The final half is never read here."""
    out: list[tuple[str, bool]] = []
    for path in paths:
        if path.exists():
            out += [
                (str(r["text"]), r["label"] == "emergency") for r in yaml.safe_load(path.read_text("utf-8"))
            ]
    return out


PERSON_VALUES = {"self", "mother", "father", "parents", "spouse", "grandchild", "child", "grandparent",
                 "sibling", "relative", "neighbor", "elder", "tenant"}  # fmt: skip


def save(bundle: Bundle, path: str | Path) -> None:
    """Write atomically, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(bundle, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load_cached(path: str | Path, expected_fingerprint: str) -> Bundle | None:
    """The cached bundle if it exists and was built from exactly the current inputs."""
    try:
        with open(path, "rb") as fh:
            bundle = pickle.load(fh)  # noqa: S301 - our own cache file
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    if getattr(bundle, "version", None) != FORMAT_VERSION or bundle.fingerprint != expected_fingerprint:
        return None
    return bundle
