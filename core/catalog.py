"""The demand catalog (data/catalog/demands.yaml): categories, items, tiers, deadlines, keywords."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from core.errors import CatalogError

CATEGORY_CODES = ("elder_care", "child_care", "mediation", "facilities", "affairs")


@dataclass(frozen=True)
class Attribute:
    """A question an Open311 client may answer when filing an item (GeoReport v2 service attributes)."""

    code: str
    datatype: str  # string | number | datetime | text | singlevaluelist | multivaluelist
    description: str
    required: bool = False
    values: tuple[tuple[str, str], ...] = ()  # (key, name) for the list types


DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    category: str
    tier: int
    accept_hours: float
    resolve_hours: float
    keywords: tuple[str, ...]
    attributes: tuple[Attribute, ...] = ()


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class DemandCatalog:
    categories: tuple[Category, ...]
    fallback: str = ""  # item code for messages whose item and category are both unknown

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
                        attributes=tuple(_attribute(it["code"], a) for a in it.get("attributes", ())),
                    )
                )
            categories.append(Category(cat["code"], cat["name"], tuple(items)))
        codes = tuple(c.code for c in categories)
        if codes != CATEGORY_CODES:
            raise CatalogError(f"category codes must be {CATEGORY_CODES}, got {codes}")
        fallback = str(defaults.get("fallback_item") or categories[-1].items[-1].code)
        if fallback not in seen:
            raise CatalogError(f"defaults.fallback_item {fallback!r} is not an item code")
        return cls(tuple(categories), fallback)

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

    def place(self, item: str | None, category: str | None, *, fallback: bool = False) -> str | None:
        """The one rule for filing a message: its item, else its category's catch-all item, else (when
        something must be filed anyway) the catalog's fallback item; None when nothing is known."""
        if item:
            return item
        if category:
            return self.default_item(category).code
        return self.fallback if fallback else None

    def names(self) -> tuple[str, ...]:
        """Category and item names (what the prompt library pre-records)."""
        out = [name for cat in self.categories for name in (cat.name, *(it.name for it in cat.items))]
        return tuple(dict.fromkeys(out))

    def vocabulary(self) -> tuple[str, ...]:
        """Domain words, names first, then keywords (speech-recognition hints, homophone repair)."""
        keywords = [k for it in self.items() for k in it.keywords]
        return tuple(dict.fromkeys([*self.names(), *keywords]))


def _attribute(item: str, raw: dict[str, object]) -> Attribute:
    datatype = str(raw.get("datatype", "string"))
    if datatype not in DATATYPES:
        raise CatalogError(f"{item}: attribute datatype must be one of {DATATYPES}")
    values = raw.get("values") or {}
    if not isinstance(values, dict):
        raise CatalogError(f"{item}: attribute values must be a mapping of key to name")
    return Attribute(
        code=str(raw["code"]),
        datatype=datatype,
        description=str(raw.get("description", "")),
        required=bool(raw.get("required", False)),
        values=tuple((str(k), str(v)) for k, v in values.items()),
    )
