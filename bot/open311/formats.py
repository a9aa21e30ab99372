"""GeoReport v2 answers in JSON or XML, and the spec's error format, from the same plain values."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import Response

FORMATS = ("json", "xml")
# XML wraps a list in a root element, each member in an element of its own (the spec's names).
XML_NAMES = {
    "services": ("services", "service"),
    "service_definition": ("service_definition", ""),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
    "webhook": ("webhook", ""),
}
# Nested lists inside a member: the list's element name -> its members' name.
XML_LISTS = {"attributes": "attribute", "values": "value"}


class ApiError(Exception):
    """An error answered in the spec's format: `[{"code": 403, "description": "..."}]`."""

    def __init__(self, status: int, description: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = dict(headers or {})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        child = ET.SubElement(parent, name)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list):
            for member in value:
                _fill(ET.SubElement(child, XML_LISTS.get(name, "item")), member)
        else:
            child.text = _text(value)


def to_xml(kind: str, body: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> bytes:
    root_name, member = XML_NAMES[kind]
    root = ET.Element(root_name)
    if isinstance(body, Mapping):
        _fill(root, body)
    else:
        for values in body:
            _fill(ET.SubElement(root, member), values)
    declaration = b'<?xml version="1.0" encoding="utf-8"?>\n'
    return declaration + ET.tostring(root, encoding="utf-8", short_empty_elements=False)


def answer(
    fmt: str,
    kind: str,
    body: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if fmt == "xml":
        return Response(to_xml(kind, body), status, dict(headers or {}), "text/xml; charset=utf-8")
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text.encode(), status, dict(headers or {}), "application/json; charset=utf-8")


def error(fmt: str, err: ApiError) -> Response:
    body = [{"code": err.status, "description": err.description}]
    return answer(fmt if fmt in FORMATS else "json", "errors", body, err.status, err.headers)
