"""Dialogue state per identity. The only code that writes it: the engine's turn (`write_state`, two
prebuilt statements on the turn's connection), the hotline's take-back and reset (`save_state`), and a
question asked outside a turn, such as the rating after a ticket is resolved (`ask_if_idle`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update

from core.conversation import DialogueState, State
from data.db import Prepared
from data.models import Conversation
from data.services import ServiceContext

_C = cast(Table, Conversation.__table__)
_NEW_STATE = Prepared(
    insert(_C).values(
        identity_id=bindparam("identity_id"),
        state=bindparam("state"),
        slots=bindparam("slots"),
        updated_at=bindparam("now"),
    )
)
_SET_STATE = Prepared(
    update(_C)
    .where(_C.c.id == bindparam("conv"))
    .values(state=bindparam("state"), slots=bindparam("slots"), updated_at=bindparam("now"))
)


def write_state(
    ctx: ServiceContext,
    identity_id: int,
    conversation_id: int | None,
    saved: DialogueState,
    state: DialogueState,
    now: datetime,
) -> None:
    """At the end of a turn: insert the row, or update it when the state changed."""
    conn = ctx.session.connection()
    if conversation_id is None:
        _NEW_STATE.run(
            conn, {"identity_id": identity_id, "state": str(state.name), "slots": state.slots, "now": now}
        )
    elif (state.name, state.slots) != (saved.name, saved.slots):
        _SET_STATE.run(
            conn, {"conv": conversation_id, "state": str(state.name), "slots": dict(state.slots), "now": now}
        )


def _row(ctx: ServiceContext, identity_id: int) -> Conversation | None:
    # Conversations are looked up twice per take-back (load, save): remember the row in the session.
    cache: dict[int, Any] = ctx.session.info.setdefault("conversations", {})
    if identity_id not in cache:
        cache[identity_id] = ctx.session.scalar(
            select(Conversation).where(Conversation.identity_id == identity_id)
        )
    return cast(Conversation | None, cache[identity_id])


def load_state(ctx: ServiceContext, identity_id: int) -> DialogueState:
    conv = _row(ctx, identity_id)
    if conv is None:
        return DialogueState()
    return DialogueState(State.parse(conv.state), dict(conv.slots or {}))


def save_state(ctx: ServiceContext, identity_id: int, state: DialogueState) -> None:
    conv = _row(ctx, identity_id)
    if conv is None:
        conv = Conversation(
            identity_id=identity_id, state=str(state.name), slots=state.slots, updated_at=ctx.clock.now()
        )
        ctx.session.add(conv)
        ctx.session.info["conversations"][identity_id] = conv
    elif (conv.state, conv.slots) != (state.name, state.slots):
        conv.state, conv.slots, conv.updated_at = str(state.name), dict(state.slots), ctx.clock.now()


def ask_if_idle(ctx: ServiceContext, identity_id: int, state: DialogueState) -> None:
    """A question asked outside a turn (a pushed message) becomes what the next bare answer answers,
    unless the conversation is in the middle of something else."""
    conv = _row(ctx, identity_id)
    if conv is None or (conv.state == State.IDLE and not (conv.slots or {}).get("held")):
        save_state(ctx, identity_id, state)
