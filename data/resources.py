"""The service-resource list (data/catalog/resources.yaml, 《社区服务资源清单》): who can meet which need.

Loaded and checked once at start-up against the demand catalog; every mistake is named with the
resource and the field, so a community editing the file sees what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.catalog import DemandCatalog
from core.errors import CatalogError

KINDS = ("government", "volunteer", "market")  # 政府购买 · 志愿服务 · 市场服务
REQUIRED = ("code", "name", "kind", "serves", "hours", "cost", "phone", "book")


@dataclass(frozen=True)
class Resource:
    code: str
    name: str
    kind: str
    serves: tuple[str, ...]  # demand item codes
    hours: str  # opening hours, as said to residents
    capacity: str  # capacity or waiting time, as said to residents
    cost: str
    phone: str  # the provider's contact number (also what its invitation code is issued to)
    book: str  # how a resident books it
    keywords: tuple[str, ...] = ()
    respond_hours: float = 24.0  # how soon the provider comes once it accepts


@dataclass(frozen=True)
class ResourceCatalog:
    resources: tuple[Resource, ...] = ()

    @classmethod
    def load(cls, path: str | Path, demands: DemandCatalog) -> ResourceCatalog:
        """Read and check the file; a missing file is an empty list (a community without one yet)."""
        path = Path(path)
        if not path.exists():
            return cls()
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise CatalogError(f"{path.name}: not valid YAML: {err}") from err
        rows = raw.get("resources") if isinstance(raw, dict) else None
        if not isinstance(rows, list):
            raise CatalogError(f"{path.name}: needs a list under 'resources'")
        items = {it.code for it in demands.items()}
        out: list[Resource] = []
        for index, row in enumerate(rows, start=1):
            out.append(_resource(path.name, index, row, items))
        codes = [r.code for r in out]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise CatalogError(f"{path.name}: duplicate resource code(s) {', '.join(dupes)}")
        return cls(tuple(out))

    def get(self, code: str) -> Resource | None:
        return next((r for r in self.resources if r.code == code), None)

    def serving(self, item: str) -> list[Resource]:
        """Resources that serve a demand item, in the file's order (the community's preference)."""
        return [r for r in self.resources if item in r.serves]

    def find(
        self, text: str, item: str | None = None, category_items: tuple[str, ...] = ()
    ) -> list[Resource]:
        """Resources a question is about: named by a keyword or name, else serving its item, else its
        category's items."""
        named = [r for r in self.resources if r.name in text or any(k in text for k in r.keywords)]
        by_item = self.serving(item) if item else []
        if named or by_item:
            return list(dict.fromkeys([*named, *by_item]))
        return [r for r in self.resources if set(r.serves) & set(category_items)]


def _resource(file: str, index: int, row: Any, items: set[str]) -> Resource:
    where = f"{file}: resource #{index}"
    if not isinstance(row, dict):
        raise CatalogError(f"{where}: must be a mapping of fields")
    if row.get("name"):
        where += f" ({row['name']})"
    missing = [f for f in REQUIRED if not row.get(f)]
    if not row.get("capacity") and not row.get("waiting"):
        missing.append("capacity or waiting")
    if missing:
        raise CatalogError(f"{where}: missing {', '.join(missing)}")
    if row["kind"] not in KINDS:
        raise CatalogError(f"{where}: kind must be one of {', '.join(KINDS)}, got {row['kind']!r}")
    serves = row["serves"] if isinstance(row["serves"], list) else [row["serves"]]
    unknown = [s for s in serves if s not in items]
    if unknown:
        raise CatalogError(f"{where}: serves unknown demand item(s) {', '.join(map(str, unknown))}")
    try:
        respond = float(row.get("respond_hours", 24))
    except (TypeError, ValueError) as err:
        raise CatalogError(f"{where}: respond_hours must be a number") from err
    if respond <= 0:
        raise CatalogError(f"{where}: respond_hours must be positive")
    return Resource(
        code=str(row["code"]),
        name=str(row["name"]),
        kind=row["kind"],
        serves=tuple(str(s) for s in serves),
        hours=str(row["hours"]),
        capacity=str(row.get("capacity") or row.get("waiting")),
        cost=str(row["cost"]),
        phone=str(row["phone"]),
        book=str(row["book"]),
        keywords=tuple(str(k) for k in row.get("keywords") or ()),
        respond_hours=respond,
    )
