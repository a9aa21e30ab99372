"""What an operator watches in the database: the outbox's backlog and open emergencies.

Read when /metrics is scraped and by `python -m bot doctor`; a handful of indexed aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data import workflow
from data.models import OutboxMessage, ProcessedMessage, Ticket


@dataclass(frozen=True)
class OutboxFigures:
    pending: int  # not yet delivered, due or waiting for a retry
    due: int  # pending and due now (a dispatcher should be on it)
    oldest_due_seconds: float  # how long the longest-waiting due message has been due (0 when none)
    dead: int  # given up after outbox.max_attempts


@dataclass(frozen=True)
class EmergencyFigures:
    open: int  # emergencies still needing someone to act
    unacknowledged: int  # nobody has taken them yet
    oldest_unacknowledged_seconds: float  # 0 when none


def outbox_figures(session: Session, now: datetime) -> OutboxFigures:
    pending = OutboxMessage.status == "pending"
    due = pending & (OutboxMessage.next_attempt_at <= now)
    n_pending, n_due, oldest = session.execute(
        select(
            func.count(),
            func.count().filter(OutboxMessage.next_attempt_at <= now),
            func.min(OutboxMessage.next_attempt_at).filter(due),
        ).where(pending)
    ).one()
    dead = session.scalar(select(func.count()).where(OutboxMessage.status == "dead")) or 0
    return OutboxFigures(int(n_pending), int(n_due), _age(now, oldest), int(dead))


def emergency_figures(session: Session, now: datetime) -> EmergencyFigures:
    unacked = (Ticket.acknowledged_at.is_(None)) & (Ticket.status == workflow.SUBMITTED)
    n_open, n_unacked, oldest = session.execute(
        select(
            func.count(),
            func.count().filter(unacked),
            func.min(Ticket.created_at).filter(unacked),
        ).where(Ticket.urgent.is_(True), Ticket.status.in_(workflow.ACTIVE))
    ).one()
    return EmergencyFigures(int(n_open), int(n_unacked), _age(now, oldest))


def newest_record(session: Session) -> datetime | None:
    """The latest time the service wrote down (a clock that went backwards shows against it)."""
    newest = session.scalar(select(func.max(ProcessedMessage.created_at)))
    return datetime.fromisoformat(newest) if isinstance(newest, str) else newest


def _age(now: datetime, since: datetime | str | None) -> float:
    if since is None:
        return 0.0
    if isinstance(since, str):  # SQLite hands aggregates back as text
        since = datetime.fromisoformat(since)
    return max(0.0, (now - since).total_seconds())
