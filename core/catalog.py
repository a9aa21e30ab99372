"""The demand catalog (data/catalog/demands.yaml): categories, items, tiers, deadlines, keywords."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

CATEGORY_CODES = ("elder_care", "child_care", "mediation", "facilities", "affairs")


class CatalogError(ValueError):
    """The catalog file is malformed."""


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    category: str
    tier: int
    accept_hours: float
    resolve_hours: float
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class DemandCatalog:
    categories: tuple[Category, ...]

    @classmethod
    def load(cls, path: str | Path) -> DemandCatalog:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        defaults = raw.get("defaults", {})
        categories = []
        seen: set[str] = set()
        for cat in raw["categories"]:
            items = []
            for it in cat["items"]:
                if it["code"] in seen:
                    raise CatalogError(f"duplicate item code {it['code']}")
                seen.add(it["code"])
                tier = int(it.get("tier", defaults.get("tier", 1)))
                if tier not in (1, 2, 3):
                    raise CatalogError(f"{it['code']}: tier must be 1, 2 or 3")
                items.append(
                    Item(
                        code=it["code"],
                        name=it["name"],
                        category=cat["code"],
                        tier=tier,
                        accept_hours=float(it.get("accept_hours", defaults.get("accept_hours", 24))),
                        resolve_hours=float(it.get("resolve_hours", defaults.get("resolve_hours", 72))),
                        keywords=tuple(it.get("keywords", ())),
                    )
                )
            categories.append(Category(cat["code"], cat["name"], tuple(items)))
        codes = tuple(c.code for c in categories)
        if codes != CATEGORY_CODES:
            raise CatalogError(f"category codes must be {CATEGORY_CODES}, got {codes}")
        return cls(tuple(categories))

    def item(self, code: str) -> Item:
        for cat in self.categories:
            for it in cat.items:
                if it.code == code:
                    return it
        raise KeyError(code)

    def category(self, code: str) -> Category:
        for cat in self.categories:
            if cat.code == code:
                return cat
        raise KeyError(code)

    def items(self) -> list[Item]:
        return [it for cat in self.categories for it in cat.items]

    def default_item(self, category: str) -> Item:
        """The catch-all item of a category (its last item) when only the category is known."""
        return self.category(category).items[-1]

    def vocabulary(self) -> list[str]:
        """Domain words: names and keywords (speech-recognition hints, homophone repair)."""
        words: list[str] = []
        for cat in self.categories:
            words.append(cat.name)
            for it in cat.items:
                words.append(it.name)
                words.extend(it.keywords)
        return list(dict.fromkeys(words))
