"""The two message types every channel shares: Inbound in, Reply out (with its structured choices)."""

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
    # Other readings of the same speech, best first, as (text, logprob per token minus `text`'s): n-best.
    asr_alternatives: tuple[tuple[str, float], ...] = ()
    spoken: bool = False  # the resident spoke: answer with voice as well
    keypad: bool = False  # a voice-only line: choices are keys to press, not words to read or tap


@dataclass(frozen=True)
class Choice:
    """A numbered option. Its label is a string-catalog `key`, or `text` (an item or ticket name).
    `action` is what picking it does (the dialogue decodes the digit with it), `arg` that action's
    argument (a ticket number, an item code, a score)."""

    digit: str
    key: str | None = None
    text: str | None = None
    action: str | None = None
    arg: str | None = None

    def to_json(self) -> dict[str, Any]:
        raw = {"digit": self.digit, "key": self.key, "text": self.text, "action": self.action}
        if self.arg is not None:
            raw["arg"] = self.arg
        return raw


def menu(*options: tuple[str, str, str] | tuple[str, str, str, str]) -> tuple[Choice, ...]:
    """menu(("1", "choice.yes", "report.commit"), ("2", "choice.no", "report.fix")): digit, label key,
    action (and an optional argument)."""
    return tuple(Choice(o[0], key=o[1], action=o[2], arg=o[3] if len(o) > 3 else None) for o in options)


def picked(choices: tuple[Choice, ...] | list[Choice], digit: str | None) -> Choice | None:
    """The offered choice a key press picks, if any."""
    if digit is None:
        return None
    return next((c for c in choices if c.digit == digit), None)


@dataclass(frozen=True)
class Reply:
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "params": self.params, "choices": [c.to_json() for c in self.choices]}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Reply:
        return cls(
            raw["key"], dict(raw.get("params") or {}), tuple(Choice(**c) for c in raw.get("choices") or ())
        )
