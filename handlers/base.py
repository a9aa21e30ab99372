"""What every handler receives (Turn) and returns (Result), and the registry of handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.conversation import Actor, DialogueState, State
from core.messages import Inbound, Reply
from data.services import ServiceContext
from nlu.types import Parse


@dataclass(frozen=True)
class TurnOptions:
    """How this turn is to be handled, beyond the message itself."""

    asr_min_confidence: float = 0.6  # below it a spoken report is read back word for word
    unverified_caller: bool = False  # a phone number no resident is registered with may still report


@dataclass
class Turn:
    svc: ServiceContext
    actor: Actor
    state: DialogueState
    parse: Parse
    inbound: Inbound
    slots: dict[str, Any]  # the action's slots
    options: TurnOptions = field(default_factory=TurnOptions)

    @property
    def text(self) -> str:
        return (self.inbound.text or "").strip()


@dataclass
class Result:
    replies: list[Reply]
    state: DialogueState = field(default_factory=DialogueState)


def ask(replies: list[Reply], state: State, **slots: Any) -> Result:
    """Enter a waiting state; the question is remembered, so that a key press can be decoded with
    the choices it offered and an unclear answer can be asked again."""
    slots["prompt"] = [r.to_json() for r in replies if r.choices or r is replies[-1]]
    slots.setdefault("retries", 0)
    return Result(replies, DialogueState(state, slots))


def done(*replies: Reply) -> Result:
    return Result(list(replies), DialogueState())


Handler = Callable[[Turn], Result]
REGISTRY: dict[str, Handler] = {}


def handler(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            if name in REGISTRY:
                raise ValueError(f"handler {name} registered twice")
            REGISTRY[name] = fn
        return fn

    return register
