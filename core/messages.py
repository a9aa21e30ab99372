"""The two message types every channel shares: Inbound in, Reply out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Inbound:
    """One message from a resident or staff member, whatever the platform."""

    channel: str  # wechat | telegram | web | demo | phone | console ...
    sender_ref: str  # the platform's id of the sender (OpenID, chat id, token identity, caller number)
    msg_id: str | None = None  # the platform's message id: the dedupe key
    text: str | None = None
    audio: bytes | None = None
    audio_format: str | None = None
    received_at: datetime | None = None
    asr_confidence: float | None = None  # set when `text` came from speech recognition
    spoken: bool = False  # the resident spoke: answer with voice as well


@dataclass(frozen=True)
class Choice:
    """A numbered option; `key` is a string-catalog key, or `text` a catalog name (item, ticket)."""

    digit: str
    key: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Reply:
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "params": self.params,
            "choices": [{"digit": c.digit, "key": c.key, "text": c.text} for c in self.choices],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Reply:
        return cls(
            raw["key"], dict(raw.get("params") or {}), tuple(Choice(**c) for c in raw.get("choices") or ())
        )


def choices(*pairs: tuple[str, str]) -> tuple[Choice, ...]:
    """choices(("1", "choice.yes"), ("2", "choice.no"))"""
    return tuple(Choice(d, key=k) for d, k in pairs)


YES_NO = choices(("1", "choice.yes"), ("2", "choice.no"))
MAIN_MENU = choices(
    ("1", "choice.report"), ("2", "choice.status"), ("3", "choice.leader"), ("0", "choice.human")
)
STAFF_MENU = choices(
    ("1", "choice.my_tasks"), ("2", "choice.report"), ("3", "choice.status"), ("0", "choice.human")
)
RATING = choices(("1", "choice.satisfied"), ("2", "choice.basic"), ("3", "choice.unsatisfied"))
