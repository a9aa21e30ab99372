"""Load the data understanding depends on: demand catalog, dialect lexicon, domain words, red flags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from core.catalog import DemandCatalog, Item
from nlu.risk import RiskLexicon

PACKAGE_DIR = Path(__file__).resolve().parent
LEXICON_DIR = PACKAGE_DIR / "lexicon"


@dataclass(frozen=True)
class DialectEntry:
    word: str
    mandarin: str
    source: str
    keep: bool = False


@dataclass(frozen=True)
class RedFlag:
    kind: str
    item: str | None
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Resources:
    items: dict[str, Item]
    dialect: tuple[DialectEntry, ...]
    domain_words: tuple[str, ...]
    red_flags: tuple[RedFlag, ...]
    hedges: tuple[str, ...]
    negations: tuple[str, ...]
    after: tuple[str, ...] = ()
    risk: RiskLexicon | None = None
    complaint: tuple[str, ...] = ()  # markers of a complaint's shape (domain.yaml)
    complaint_min_chars: int = 14
    spoken_words: tuple[str, ...] = ()  # more words for the repair of recognized speech (domain.yaml)

    def category_of(self, item: str | None) -> str | None:
        found = self.items.get(item or "")
        return found.category if found else None


def _read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_catalog(path: str | Path) -> dict[str, Item]:
    """Items of the demand catalog by code, in file order."""
    return {it.code: it for it in DemandCatalog.load(path).items()}


def load_dialect(lexicon_dir: Path = LEXICON_DIR) -> tuple[DialectEntry, ...]:
    """Dialect lexicon entries; every entry must name a known source."""
    raw = _read(lexicon_dir / "dialect.yaml")
    sources = raw.get("sources", {})
    entries = []
    for e in raw.get("entries", []):
        if e.get("source") not in sources:
            raise ValueError(f"dialect entry {e.get('word')!r} has no known source")
        entries.append(
            DialectEntry(str(e["word"]), str(e["mandarin"]), sources[e["source"]], bool(e.get("keep")))
        )
    return tuple(entries)


def _domain_words(lexicon_dir: Path, items: dict[str, Item]) -> tuple[str, ...]:
    raw = _read(lexicon_dir / "domain.yaml")
    exclude = set(raw.get("exclude", []))
    words = {str(w) for w in raw.get("words", [])}
    for item in items.values():
        words.update(k for k in item.keywords if len(k) >= 2 and k not in exclude)
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def _red_flags(
    lexicon_dir: Path,
) -> tuple[tuple[RedFlag, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    raw = _read(lexicon_dir / "redflags.yaml")
    flags = tuple(
        RedFlag(f["kind"], f.get("item"), tuple(str(p) for p in f["patterns"])) for f in raw["flags"]
    )
    return flags, tuple(raw.get("hedges", [])), tuple(raw.get("negations", [])), tuple(raw.get("after", []))


def load_resources(catalog_path: str | Path, lexicon_dir: str | Path = LEXICON_DIR) -> Resources:
    """Read every data file once; the result is plain data, safe to pickle."""
    lexicon_dir = Path(lexicon_dir)
    items = load_catalog(catalog_path)
    flags, hedges, negations, after = _red_flags(lexicon_dir)
    words = _domain_words(lexicon_dir, items)
    risk = RiskLexicon.load(lexicon_dir / "risk.yaml")
    domain = _read(lexicon_dir / "domain.yaml")
    return Resources(
        items,
        load_dialect(lexicon_dir),
        words,
        flags,
        hedges,
        negations,
        after,
        risk,
        tuple(str(w) for w in domain.get("complaint", [])),
        int(domain.get("COMPLAINT_MIN_CHARS", 14)),
        tuple(str(w) for w in domain.get("spoken", [])),
    )
