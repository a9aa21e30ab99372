"""Turn a Reply (string key + params + choices) into text, speakable parts and structured choices.

The string catalog (bot/strings/zh-CN.yaml) is the only place user-facing sentences live.
Each rendered reply also carries `parts`, so the voice layer can assemble pre-recorded prompt audio
for the fixed pieces, read numbers digit by digit and synthesize only free text. Choices stay
structured: each channel shows them its own way (buttons, numbered text once, keypad prompts).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from core.messages import Choice, Reply

PartKind = Literal["fixed", "digits", "name", "free"]

# Placeholders read digit by digit; names come from the demand catalog or status words.
DIGIT_PARAMS = {"ticket_no", "phone", "count", "hours", "code", "number"}
NAME_PARAMS = {"item", "category", "status", "tier", "assignee", "actor"}
_FORMATTER = string.Formatter()
# Catalog sections only ever shown on a screen (the staff workbench, the chat page's own labels, the
# Open311 API), never spoken.
SCREEN_ONLY = frozenset({"workbench", "web", "open311"})
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Part:
    kind: PartKind
    text: str


@dataclass(frozen=True)
class Rendered:
    text: str
    parts: tuple[Part, ...]


class StringCatalog:
    """All user-facing sentences of one locale, addressed as "section.key"."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        self._entries = dict(entries)

    @classmethod
    def load(cls, path: str | Path) -> StringCatalog:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        flat: dict[str, str] = {}
        for section, items in raw.items():
            for key, text in items.items():
                flat[f"{section}.{key}"] = str(text)  # keys: quote yes/no/on/off in YAML
        return cls(flat)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def keys(self) -> Iterable[str]:
        return self._entries.keys()

    def text(self, key: str) -> str:
        return self._entries[key]

    def render(self, key: str, params: Mapping[str, Any] | None = None) -> Rendered:
        """Fill a sentence; unknown keys are a programming error and raise KeyError."""
        template = self._entries[key]
        params = params or {}
        parts: list[Part] = []
        for literal, field_name, _spec, _conv in _FORMATTER.parse(template):
            if literal:
                parts.extend(_split_digits(literal))
            if field_name is None:
                continue
            value = str(params.get(field_name, ""))
            if not value:
                continue
            if field_name in DIGIT_PARAMS or field_name.endswith("_no"):
                parts.append(Part("digits", value))
            elif field_name in NAME_PARAMS:
                parts.append(Part("name", value))
            else:
                parts.extend(_split_free(value))
        return Rendered("".join(p.text for p in parts), tuple(_merge(parts)))

    def fixed_texts(self) -> set[str]:
        """Every fixed piece of every sentence that may be spoken: what the prompt library must pre-record."""
        texts: set[str] = set()
        for key, template in self._entries.items():
            if key.split(".", 1)[0] in SCREEN_ONLY:
                continue
            for literal, _field, _spec, _conv in _FORMATTER.parse(template):
                texts.update(p.text for p in _split_digits(literal) if p.kind == "fixed")
        return {t for t in texts if t.strip()}


def _split_digits(text: str) -> list[Part]:
    """Split a fixed literal so that the numbers inside it are read digit by digit."""
    parts: list[Part] = []
    pos = 0
    for match in _DIGITS.finditer(text):
        if match.start() > pos:
            parts.append(Part("fixed", text[pos : match.start()]))
        parts.append(Part("digits", match.group()))
        pos = match.end()
    if pos < len(text):
        parts.append(Part("fixed", text[pos:]))
    return parts


def _split_free(text: str) -> list[Part]:
    return [
        Part("digits", p.text) if p.kind == "digits" else Part("free", p.text) for p in _split_digits(text)
    ]


def _merge(parts: list[Part]) -> list[Part]:
    merged: list[Part] = []
    for part in parts:
        if merged and merged[-1].kind == part.kind == "free":
            merged[-1] = Part("free", merged[-1].text + part.text)
        else:
            merged.append(part)
    return merged


def join(rendered: Iterable[Rendered], sep: str = "") -> Rendered:
    """Concatenate rendered sentences into one reply."""
    items = list(rendered)
    parts: list[Part] = []
    for i, r in enumerate(items):
        if i and sep:
            parts.append(Part("fixed", sep))
        parts.extend(r.parts)
    return Rendered(sep.join(r.text for r in items), tuple(parts))


@dataclass(frozen=True)
class OutMessage:
    """One rendered reply: the sentence (`body`, and `parts` to speak it) and its choices as
    (digit, label) pairs, kept apart so that no channel has to take another channel's text apart."""

    body: str
    parts: tuple[Part, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    key: str = ""

    @property
    def text(self) -> str:
        """For text-only channels: the sentence, then its choices numbered once."""
        return self.numbered().text

    def numbered(self) -> Rendered:
        """Sentence plus "1 对 2 不对" (text and speakable parts), unless the sentence already says
        every option ("满意请按 1…")."""
        body = Rendered(self.body, self.parts)
        if not self.choices or says_choices(self.body, self.choices):
            return body
        menu = [body] if self.body else []
        for digit, label in self.choices:
            menu.append(
                Rendered(f"{digit} {label}", (Part("digits", digit), Part("fixed", " "), Part("name", label)))
            )
        return join(menu, " ")

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "body": self.body,
            "text": self.text,
            "choices": [{"digit": d, "label": label} for d, label in self.choices],
            "parts": [[p.kind, p.text] for p in self.parts],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> OutMessage:
        return cls(
            raw.get("body", raw["text"]),
            tuple(Part(k, t) for k, t in raw.get("parts", [])),
            tuple((c["digit"], c["label"]) for c in raw.get("choices", [])),
            raw.get("key", ""),
        )


def says_choices(text: str, choices: tuple[tuple[str, str], ...]) -> bool:
    """The sentence already says every option ("满意请按 1…")."""
    return all(
        any(f"{verb} {d}" in text or f"{verb}{d}" in text for verb in ("按", "回")) for d, _ in choices
    )


class Renderer:
    """Reply → OutMessage using the string catalog; '@section.key' params are catalog words."""

    def __init__(self, strings: StringCatalog) -> None:
        self.strings = strings

    def render(self, reply: Reply) -> OutMessage:
        params = {k: self.word(v) for k, v in reply.params.items()}
        body = self.strings.render(reply.key, params)
        pairs = tuple((c.digit, self.label(c)) for c in reply.choices)
        return OutMessage(body.text, body.parts, pairs, reply.key)

    def label(self, choice: Choice) -> str:
        if choice.key:
            return self.strings.text(choice.key)
        return choice.text or ""

    def word(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("@") and value[1:] in self.strings:
            return self.strings.text(value[1:])
        return value
