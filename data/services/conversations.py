"""Per-identity dialogue state and the processed-message log (dedupe + stored answers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from data.models import Conversation, ProcessedMessage
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


def processed_answer(ctx: ServiceContext, identity_id: int, msg_id: str) -> list[Any] | None:
    row = ctx.session.scalar(
        select(ProcessedMessage).where(
            ProcessedMessage.identity_id == identity_id, ProcessedMessage.msg_id == msg_id
        )
    )
    return None if row is None else list(row.replies)


def record_processed(ctx: ServiceContext, identity_id: int, msg_id: str, replies: list[Any]) -> None:
    ctx.session.add(
        ProcessedMessage(identity_id=identity_id, msg_id=msg_id, created_at=ctx.clock.now(), replies=replies)
    )
    ctx.session.flush()
