"""Prepared statements: on SQLite they run on the driver's connection, so what they write and read
must be exactly what SQLAlchemy writes and reads (datetimes, JSON), on either database."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from data.db import Prepared, from_datetime, from_json
from data.models import Identity, ProcessedMessage

WHEN = datetime(2026, 11, 29, 8, 30, 5, 123456)
REPLIES = [{"key": "status.none", "text": "您没有正在办理的事项。", "choices": [], "parts": [["fixed", "1"]]}]

_ADD = Prepared(
    insert(ProcessedMessage).values(
        identity_id=bindparam("identity_id"),
        msg_id=bindparam("msg_id"),
        created_at=bindparam("now"),
        replies=bindparam("replies"),
    )
)
_GET = Prepared(
    select(ProcessedMessage.created_at, ProcessedMessage.replies).where(
        ProcessedMessage.msg_id == bindparam("m")
    )
)


def test_written_and_read_as_sqlalchemy_does(app) -> None:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        ident = Identity(channel="test", external_id="p1", created_at=WHEN)
        s.add(ident)
        s.flush()
        _ADD.run(s.connection(), {"identity_id": ident.id, "msg_id": "raw", "now": WHEN, "replies": REPLIES})
        s.add(ProcessedMessage(identity_id=ident.id, msg_id="orm", created_at=WHEN, replies=REPLIES))
    with app.db.session() as s:
        orm = {m.msg_id: (m.created_at, m.replies) for m in s.scalars(select(ProcessedMessage))}
        assert orm["raw"] == orm["orm"] == (WHEN, REPLIES)
        for msg_id in ("raw", "orm"):
            created, replies = _GET.run(s.connection(), {"m": msg_id}).fetchone()
            assert (from_datetime(created), from_json(replies)) == (WHEN, REPLIES)
        # ordering and range comparisons see the same text on both paths
        later = s.scalars(select(ProcessedMessage.msg_id).where(ProcessedMessage.created_at >= WHEN)).all()
        assert sorted(later) == ["orm", "raw"]


def test_a_unique_key_clash_is_sqlalchemys_integrity_error(app) -> None:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        ident = Identity(channel="test", external_id="p2", created_at=WHEN)
        s.add(ident)
        s.flush()
        params = {"identity_id": ident.id, "msg_id": "twice", "now": WHEN, "replies": []}
        _ADD.run(s.connection(), params)
        with pytest.raises(IntegrityError):
            _ADD.run(s.connection(), params)
        s.rollback()


def test_in_lists_must_be_literal() -> None:
    with pytest.raises(ValueError, match="literal"):
        Prepared(select(ProcessedMessage.id).where(ProcessedMessage.msg_id.in_(["a", "b"])))
