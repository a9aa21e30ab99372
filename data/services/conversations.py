"""Per-identity dialogue state through the ORM (the hotline's take-back); engine turns use data.services.turns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from data.models import Conversation
from data.services import ServiceContext


@dataclass
class DialogueState:
    name: str = "idle"
    slots: dict[str, Any] = field(default_factory=dict)


def _row(ctx: ServiceContext, identity_id: int) -> Conversation | None:
    # Conversations are looked up twice per turn (load, save): remember the row in the session.
    cache = ctx.session.info.setdefault("conversations", {})
    if identity_id not in cache:
        cache[identity_id] = ctx.session.scalar(
            select(Conversation).where(Conversation.identity_id == identity_id)
        )
    return cache[identity_id]


def load_state(ctx: ServiceContext, identity_id: int) -> DialogueState:
    conv = _row(ctx, identity_id)
    if conv is None:
        return DialogueState()
    return DialogueState(conv.state, dict(conv.slots or {}))


def save_state(ctx: ServiceContext, identity_id: int, state: DialogueState) -> None:
    conv = _row(ctx, identity_id)
    if conv is None:
        conv = Conversation(
            identity_id=identity_id, state=state.name, slots=state.slots, updated_at=ctx.clock.now()
        )
        ctx.session.add(conv)
        ctx.session.info["conversations"][identity_id] = conv
    elif (conv.state, conv.slots) != (state.name, state.slots):
        conv.state, conv.slots, conv.updated_at = state.name, dict(state.slots), ctx.clock.now()
