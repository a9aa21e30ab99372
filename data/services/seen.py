"""Signed requests already taken: a replay inside the freshness window is found here.

Timed by the wall clock, not the domain clock (ctx.clock): a platform signs with real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from data.models import SeenRequest
from data.services import ServiceContext


def wall_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def first_use(ctx: ServiceContext, key: str, digest: str, keep_seconds: float) -> bool:
    """Record `key` (e.g. WeChat's timestamp + nonce); False when it was already used with another
    body. The same body again is a platform retry: True, and the engine's dedupe answers it."""
    now = wall_now()
    row = ctx.session.get(SeenRequest, key, populate_existing=True)
    if row is not None and row.expires_at > now:
        return row.digest == digest
    if row is not None:  # an old use, past any freshness window: forget it
        row.digest, row.expires_at = digest, now + timedelta(seconds=keep_seconds)
        return True
    nested = ctx.session.begin_nested()
    try:
        ctx.session.add(SeenRequest(key=key, digest=digest, expires_at=now + timedelta(seconds=keep_seconds)))
        ctx.session.flush()
        nested.commit()
    except IntegrityError:  # another process took the same key a moment ago
        nested.rollback()
        row = ctx.session.get(SeenRequest, key, populate_existing=True)
        return row is not None and row.digest == digest
    return True


def forget_expired(ctx: ServiceContext) -> int:
    """Delete what can no longer be replayed (its window has passed); the scheduler calls it."""
    result = ctx.session.execute(delete(SeenRequest).where(SeenRequest.expires_at <= wall_now()))
    return int(getattr(result, "rowcount", 0) or 0)
