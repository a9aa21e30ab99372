"""Transactional outbox: notifications are rows written with the change that causes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data.models import OutboxMessage, Ticket
from data.services import ServiceContext
from data.services.directory import identities_of


def notify(
    ctx: ServiceContext,
    *,
    kind: str,
    key: str,
    params: dict[str, Any],
    resident_id: int | None = None,
    staff_id: int | None = None,
    ticket: Ticket | None = None,
    event_id: int | str = 0,
    choices: Sequence[tuple[str, str]] = (),
) -> int:
    """Queue one notification for every channel account of a person; returns how many rows."""
    count = 0
    for ident in identities_of(ctx, resident_id=resident_id, staff_id=staff_id):
        dedupe = f"{kind}:{ticket.id if ticket else 0}:{event_id}:{ident.id}"
        exists = ctx.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe))
        if exists:
            continue
        now = ctx.clock.now()
        ctx.session.add(
            OutboxMessage(
                dedupe_key=dedupe,
                identity_id=ident.id,
                channel=ident.channel,
                kind=kind,
                ticket_id=ticket.id if ticket else None,
                text_key=key,
                params=params,
                choices=[list(c) for c in choices],
                created_at=now,
                next_attempt_at=now,
            )
        )
        count += 1
    ctx.session.flush()
    return count


@dataclass(frozen=True)
class Delivery:
    id: int
    identity_id: int
    channel: str
    kind: str
    text_key: str
    params: dict[str, Any]
    choices: list[Any]
    attempts: int
    ticket_id: int | None


def claim_batch(session: Session, now: datetime, limit: int, lease_seconds: float = 60) -> list[Delivery]:
    """Take due rows and lease them (next_attempt_at moves forward) so no other worker sends them.

    On PostgreSQL rows are locked with FOR UPDATE SKIP LOCKED, so several dispatchers share the
    work without waiting on each other; on SQLite the write lock taken at BEGIN serializes them.
    """
    q = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    rows = list(session.scalars(q))
    lease = now + timedelta(seconds=lease_seconds)
    out = []
    for row in rows:
        row.next_attempt_at = lease
        row.attempts += 1
        out.append(
            Delivery(
                row.id,
                row.identity_id,
                row.channel,
                row.kind,
                row.text_key,
                dict(row.params),
                list(row.choices),
                row.attempts,
                row.ticket_id,
            )
        )
    session.flush()
    return out


def mark_sent(session: Session, outbox_id: int, now: datetime) -> bool:
    """Record delivery; False when the row was already sent (another worker, a replay)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.status == "pending")
        .values(status="sent", sent_at=now, last_error="")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_failed(
    session: Session,
    outbox_id: int,
    now: datetime,
    error: str,
    *,
    attempts: int,
    max_attempts: int,
    base_seconds: float,
) -> None:
    """Schedule a retry with exponential backoff, or give up after max_attempts."""
    if attempts >= max_attempts:
        values: dict[str, Any] = {"status": "dead", "last_error": error[:500]}
    else:
        delay = base_seconds * (2 ** (attempts - 1))
        values = {"next_attempt_at": now + timedelta(seconds=delay), "last_error": error[:500]}
    session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(**values))
