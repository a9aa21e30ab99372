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


def load_state(ctx: ServiceContext, identity_id: int) -> DialogueState:
    conv = ctx.session.scalar(select(Conversation).where(Conversation.identity_id == identity_id))
    if conv is None:
        return DialogueState()
    return DialogueState(conv.state, dict(conv.slots or {}))


def save_state(ctx: ServiceContext, identity_id: int, state: DialogueState) -> None:
    conv = ctx.session.scalar(select(Conversation).where(Conversation.identity_id == identity_id))
    if conv is None:
        ctx.session.add(
            Conversation(
                identity_id=identity_id, state=state.name, slots=state.slots, updated_at=ctx.clock.now()
            )
        )
    else:
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
