"""services.json and services/{code}.json: the demand catalog's 30 items as GeoReport services."""

from __future__ import annotations

from typing import Any

from core.catalog import DemandCatalog


def service_list(catalog: DemandCatalog) -> list[dict[str, Any]]:
    """service_code = item code, group = category name, metadata when the item asks questions."""
    return [
        {
            "service_code": item.code,
            "service_name": item.name,
            "description": item.name,
            "metadata": bool(item.attributes),
            "type": "realtime",
            "keywords": ", ".join(item.keywords),
            "group": category.name,
        }
        for category in catalog.categories
        for item in category.items
    ]


def service_definition(catalog: DemandCatalog, code: str) -> dict[str, Any] | None:
    try:
        item = catalog.item(code)
    except KeyError:
        return None
    attributes = [
        {
            "variable": True,
            "code": attr.code,
            "datatype": attr.datatype,
            "required": attr.required,
            "datatype_description": None,
            "order": order,
            "description": attr.description,
            "values": [{"key": key, "name": name} for key, name in attr.values],
        }
        for order, attr in enumerate(item.attributes, start=1)
    ]
    return {"service_code": item.code, "attributes": attributes}
