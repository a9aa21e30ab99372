"""Understanding: dialect-friendly normalization, intent/item classification, red flags, entities.

parser = load_parser(catalog_path, training_dir, cache_path)
parser.parse("楼到的灯坏了")  # -> Parse(intent="report", category="facilities", item="lighting", ...)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from nlu.normalize import Normalizer
from nlu.parser import Parser, load_parser
from nlu.resources import LEXICON_DIR, PACKAGE_DIR, load_resources
from nlu.types import Address, Alternative, Entities, Parse, TimeExpr

__all__ = ["Address", "Alternative", "Entities", "Parse", "Parser", "TimeExpr", "load_parser", "normalize"]

DEFAULT_CATALOG = PACKAGE_DIR.parent / "data" / "catalog" / "demands.yaml"


@lru_cache(maxsize=1)
def _default_normalizer() -> Normalizer:
    resources = load_resources(DEFAULT_CATALOG, LEXICON_DIR)
    return Normalizer(resources.dialect, resources.domain_words)


def normalize(text: str, catalog_path: str | Path | None = None) -> str:
    """Normalize one message with the shipped lexicon (and the catalog's words for homophone repair)."""
    if catalog_path is None:
        return _default_normalizer()(text)
    resources = load_resources(catalog_path, LEXICON_DIR)
    return Normalizer(resources.dialect, resources.domain_words)(text)
