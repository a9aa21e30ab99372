"""Optional backend: a running Rasa server's /model/parse, mapped into our Parse.

Mapping (train the Rasa model from nlu/training/*.yml, whose intent names already follow it):
- intent `report_<item_code>` -> intent report, that item and its category;
- intent `report` (or `emergency`) with an entity `item` whose value is an item code -> that item;
- any other intent named in nlu.types.INTENTS -> that intent; unknown names -> out_of_scope;
- entities building / unit / room / ticket_no / phone / person / rating / on_behalf override what the local
  rules found; everything else (normalization, digits, red flags, times) is computed locally, so an
  emergency is never missed because the remote model was unsure.
Network or format errors return Parse(intent="out_of_scope", confidence=0.0) instead of raising.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import httpx

from nlu.emergency import RedFlagDetector
from nlu.entities import PersonFinder, extract, find_digit
from nlu.normalize import Normalizer
from nlu.resources import LEXICON_DIR, PACKAGE_DIR, load_resources
from nlu.training import load_training, split_label
from nlu.types import INTENTS, Address, Alternative, Entities, Parse


class RasaParser:
    """Same contract as nlu.Parser: parse(text) -> Parse, never raises."""

    def __init__(
        self,
        url: str,
        timeout: float,
        catalog_path: str | Path,
        lexicon_dir: str | Path = LEXICON_DIR,
        training_dir: str | Path = PACKAGE_DIR / "training",
    ) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self._client = httpx.Client(timeout=timeout)
        self._res = load_resources(catalog_path, lexicon_dir)
        self._normalizer = Normalizer(self._res.dialect, self._res.domain_words)
        self._detector = RedFlagDetector(
            self._res.red_flags, self._res.hedges, self._res.negations, self._res.after
        )
        self._persons = PersonFinder(load_training(training_dir).synonyms)

    def close(self) -> None:
        self._client.close()

    def _label(self, name: str, entities: list[dict[str, Any]]) -> tuple[str, str | None]:
        intent, item = split_label(name, self._res.items)
        if item is None:
            named = next((str(e.get("value")) for e in entities if e.get("entity") == "item"), None)
            item = named if named in self._res.items and intent in ("report", "emergency") else None
        return (intent, item) if intent in INTENTS else ("out_of_scope", None)

    def _entities(self, local: Entities, remote: list[dict[str, Any]]) -> Entities:
        values = {str(e.get("entity")): str(e.get("value")) for e in remote if e.get("value") is not None}
        addr = local.address or Address()
        if any(k in values for k in ("building", "unit", "room")):
            addr = Address(values.get("building", addr.building), values.get("unit", addr.unit),
                           values.get("room", addr.room), addr.text)  # fmt: skip
        rating = values.get("rating")
        return dataclasses.replace(
            local,
            address=addr if addr != Address() else None,
            ticket_no=values.get("ticket_no", local.ticket_no),
            phone=values.get("phone", local.phone),
            person=values.get("person", local.person),
            rating=int(rating) if rating and rating.isdigit() else local.rating,
            on_behalf=values.get("on_behalf", local.on_behalf),
        )

    def parse(self, text: str) -> Parse:
        text = text if isinstance(text, str) else str(text)
        try:
            normalized = self._normalizer(text)
            surface = self._normalizer.surface(text)
        except Exception:  # never raise
            return Parse(text, "", "out_of_scope", confidence=0.0)
        if digit := find_digit(surface):
            return Parse(text, normalized, "out_of_scope", confidence=1.0, entities=Entities(digit=digit))
        try:
            response = self._client.post(self.url, json={"text": text})
            response.raise_for_status()
            data = response.json()
            remote = list(data.get("entities") or [])
            intent, item = self._label(str(data["intent"]["name"]), remote)
            confidence = float(data["intent"].get("confidence") or 0.0)
            ranking = data.get("intent_ranking") or []
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return Parse(text, normalized, "out_of_scope", confidence=0.0)
        entities = self._entities(extract(normalized, surface, self._persons), remote)
        hit = self._detector.detect(normalized)
        if hit and intent != "emergency":
            intent, item, confidence = "emergency", item or hit.item, max(confidence, 0.95)
        alternatives = []
        for r in ranking[:3]:
            alt_intent, alt_item = self._label(str(r.get("name", "")), [])
            score = round(float(r.get("confidence") or 0.0), 4)
            alternatives.append(Alternative(alt_intent, self._res.category_of(alt_item), alt_item, score))
        return Parse(text, normalized, intent, self._res.category_of(item), item, intent == "emergency",
                     round(confidence, 4), tuple(alternatives), entities)  # fmt: skip
