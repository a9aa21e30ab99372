"""What channel adapters need from the database: late replies, the 48 h window, identity lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Identity, OutboxMessage, Ticket
from data.services import ServiceContext

RAW_KEY = "channel.raw"  # "{text}": an already rendered reply carried through the outbox
LATE_KIND = "late_reply"


@dataclass(frozen=True)
class Recipient:
    """The channel account a delivery goes to, with what decides how it may be sent."""

    identity_id: int
    channel: str
    external_id: str
    staff: bool
    last_inbound_at: datetime | None


def enqueue_late_reply(
    ctx: ServiceContext, channel: str, external_id: str, msg_id: str, texts: Sequence[str]
) -> int:
    """Queue an answer that missed the platform's reply window; one row per message, deduped."""
    ident = ctx.session.scalar(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    )
    if ident is None:
        return 0
    now = ctx.clock.now()
    count = 0
    for i, text in enumerate(texts):
        dedupe = f"{LATE_KIND}:{ident.id}:{msg_id}:{i}"[:160]
        if ctx.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe)):
            continue
        ctx.session.add(
            OutboxMessage(
                dedupe_key=dedupe,
                identity_id=ident.id,
                channel=channel,
                kind=LATE_KIND,
                text_key=RAW_KEY,
                params={"text": text},
                choices=[],
                created_at=now,
                next_attempt_at=now,
            )
        )
        count += 1
    ctx.session.flush()
    return count


def late_reply_queued(ctx: ServiceContext, channel: str, external_id: str, msg_id: str) -> bool:
    """True when the answer to this message already went to the outbox (a retry must not answer again)."""
    ident = ctx.session.scalar(
        select(Identity.id).where(Identity.channel == channel, Identity.external_id == external_id)
    )
    if ident is None:
        return False
    key = f"{LATE_KIND}:{ident}:{msg_id}:0"[:160]
    return ctx.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None


def recipient(session: Session, identity_id: int) -> Recipient | None:
    ident = session.get(Identity, identity_id)
    if ident is None:
        return None
    return Recipient(
        ident.id, ident.channel, ident.external_id, ident.staff_id is not None, ident.last_inbound_at
    )


def within_window(last_inbound_at: datetime | None, now: datetime, hours: float = 48) -> bool:
    """WeChat allows customer-service messages only within 48 h of the user's last message."""
    return last_inbound_at is not None and now - last_inbound_at <= timedelta(hours=hours)


def ticket_number(session: Session, ticket_id: int | None) -> str | None:
    if ticket_id is None:
        return None
    ticket = session.get(Ticket, ticket_id)
    return ticket.public_no if ticket else None
