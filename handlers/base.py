"""What every handler receives (Turn) and returns (Result), and the registry of handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.messages import Inbound, Reply
from data.services import ServiceContext
from data.services.conversations import DialogueState
from data.services.directory import Actor
from nlu.types import Parse


@dataclass
class Turn:
    svc: ServiceContext
    actor: Actor
    state: DialogueState
    parse: Parse
    inbound: Inbound
    slots: dict[str, Any]  # the action's slots
    options: dict[str, Any] = field(default_factory=dict)  # asr_min_confidence, emergency item ...

    @property
    def text(self) -> str:
        return (self.inbound.text or "").strip()


@dataclass
class Result:
    replies: list[Reply]
    state: DialogueState = field(default_factory=DialogueState)


def ask(replies: list[Reply], state: str, **slots: Any) -> Result:
    """Enter a waiting state; the prompt is remembered so an unclear answer can be asked again."""
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
