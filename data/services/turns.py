"""The bookkeeping around one engine turn, in as few statements as the database allows.

Every inbound message needs the same things before a handler runs: the sender's identity, whether
this message was answered before (and with what), who the sender is (the actor) and the dialogue
state. Through the ORM that was five or six statements and most of a turn's CPU; here it is one
SELECT (plus a row lock on PostgreSQL), and the state and the dedupe record are written with one
statement each at the end. Plain Core statements on the session's own connection, inside the
session's transaction, so the turn still commits or rolls back as one.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, select, update

from core.conversation import Actor, DialogueState, State
from data.db import Prepared, from_datetime, from_json
from data.models import Conversation, Grid, Household, Identity, ProcessedMessage, Resident, Unit
from data.services import ServiceContext
from data.services.conversations import write_state
from data.services.directory import get_or_create_identity, resident_actor, staff_actor

_I, _P, _C = (cast(Table, m.__table__) for m in (Identity, ProcessedMessage, Conversation))
_R, _H, _U, _G = (cast(Table, m.__table__) for m in (Resident, Household, Unit, Grid))

# Compiled once and cached by SQLAlchemy: the identity, the stored answer to this msg_id if any,
# the conversation row, and the resident's place in the community (unit, grid, community).
_OPEN = (
    select(
        _I.c.id,
        _I.c.resident_id,
        _I.c.staff_id,
        _I.c.last_inbound_at,
        _P.c.replies,
        _C.c.id.label("conversation_id"),
        _C.c.state,
        _C.c.slots,
        _R.c.name,
        _R.c.household_id,
        _H.c.unit_id,
        _U.c.grid_id,
        _G.c.community_id,
    )
    .select_from(
        _I.outerjoin(_P, and_(_P.c.identity_id == _I.c.id, _P.c.msg_id == bindparam("msg_id")))
        .outerjoin(_C, _C.c.identity_id == _I.c.id)
        .outerjoin(_R, _R.c.id == _I.c.resident_id)
        .outerjoin(_H, _H.c.id == _R.c.household_id)
        .outerjoin(_U, _U.c.id == _H.c.unit_id)
        .outerjoin(_G, _G.c.id == _U.c.grid_id)
    )
    .where(_I.c.channel == bindparam("channel"), _I.c.external_id == bindparam("external_id"))
)
_LOCK = (
    select(_I.c.id)
    .where(_I.c.channel == bindparam("channel"), _I.c.external_id == bindparam("external_id"))
    .with_for_update()
)
_TOUCH = update(_I).where(_I.c.id == bindparam("ident")).values(last_inbound_at=bindparam("now"))
_PROCESSED = insert(_P).values(
    identity_id=bindparam("identity_id"),
    msg_id=bindparam("msg_id"),
    created_at=bindparam("now"),
    replies=bindparam("replies"),
)


_OPEN_RUN, _LOCK_RUN, _TOUCH_RUN = Prepared(_OPEN), Prepared(_LOCK), Prepared(_TOUCH)
_PROCESSED_RUN = Prepared(_PROCESSED)


@dataclass
class TurnRecord:
    """What a turn starts from. `prior` holds the stored answer when this message was seen before;
    `saved` is the stored dialogue state, which `state()` hands out as a copy a handler may change."""

    identity_id: int
    actor: Actor
    saved: DialogueState
    prior: list[Any] | None
    conversation_id: int | None
    last_inbound_at: datetime | None

    def state(self) -> DialogueState:
        return DialogueState(self.saved.name, copy.deepcopy(self.saved.slots))


def open_turn(
    ctx: ServiceContext, channel: str, external_id: str, msg_id: str | None, *, lock: bool = False
) -> TurnRecord:
    """Identity (created on first contact), the stored answer, the actor and the dialogue state.
    `lock` takes the identity's row lock first (PostgreSQL: concurrent deliveries of one message
    queue here, and the second then sees the first one's stored answer)."""
    conn = ctx.session.connection()
    keys = {"channel": channel, "external_id": external_id, "msg_id": msg_id or ""}
    if lock and _LOCK_RUN.run(conn, keys).fetchone() is None:
        get_or_create_identity(ctx, channel, external_id)
        _LOCK_RUN.run(conn, keys).fetchone()
    row = _OPEN_RUN.run(conn, keys).fetchone()
    if row is None:
        get_or_create_identity(ctx, channel, external_id)
        row = _OPEN_RUN.run(conn, keys).fetchone()
        assert row is not None
    (ident, resident_id, staff_id, last_inbound, replies, conversation_id, state, slots, name,
     household_id, unit_id, grid_id, community_id) = row  # fmt: skip
    base = Actor(identity_id=ident, channel=channel, external_id=external_id, role="unbound")
    actor = base if staff_id is None else staff_actor(ctx, base, staff_id)
    if actor is base and resident_id is not None and community_id is not None:
        actor = resident_actor(base, resident_id, name, household_id, unit_id, grid_id, community_id)
    saved = DialogueState(State.parse(state), from_json(slots) or {}) if conversation_id else DialogueState()
    prior = list(from_json(replies)) if msg_id and replies is not None else None
    return TurnRecord(ident, actor, saved, prior, conversation_id, from_datetime(last_inbound))


def touch(ctx: ServiceContext, record: TurnRecord, now: datetime) -> None:
    """Remember when the sender last wrote (WeChat's 48 h reply window needs minutes, not every turn)."""
    if record.last_inbound_at is None or (now - record.last_inbound_at).total_seconds() > 60:
        _TOUCH_RUN.run(ctx.session.connection(), {"ident": record.identity_id, "now": now})


def close_turn(
    ctx: ServiceContext,
    record: TurnRecord,
    state: DialogueState,
    msg_id: str | None,
    replies: list[Any],
) -> None:
    """Write the new dialogue state (when it changed) and the dedupe record with its answer. A
    concurrent delivery of the same message fails here on the unique key (IntegrityError)."""
    now = ctx.clock.now()
    write_state(ctx, record.identity_id, record.conversation_id, record.saved, state, now)
    if msg_id:
        _PROCESSED_RUN.run(
            ctx.session.connection(),
            {"identity_id": record.identity_id, "msg_id": msg_id, "now": now, "replies": replies},
        )
