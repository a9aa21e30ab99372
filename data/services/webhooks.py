"""Signed webhooks for integrators: every status change of a service request is queued in the
outbox (one row per registered webhook, in the transaction of the change) and delivered by the
dispatcher's webhook sender (bot/open311/webhooks.py) with retries and backoff."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import ApiKey, OutboxMessage, Ticket, TicketEvent
from data.services import ServiceContext
from data.services.open311_views import STATUS_EVENTS, views

WEBHOOK_CHANNEL = "webhook"  # outbox rows for an integrator's webhook
WEBHOOK_KIND = "open311.status"


def on_event(ctx: ServiceContext, ticket: Ticket, event: TicketEvent) -> None:
    """A ticket event that changes what a city system sees (a status change, a creation, an
    escalation to another tier) queues one webhook call per registered integrator."""
    if ticket.kind != "request" or event.kind not in STATUS_EVENTS:
        return
    if event.kind not in ("created", "escalated") and event.from_status == event.to_status:
        return
    if not ctx.session.scalar(select(ApiKey.id).where(ApiKey.webhook_url.is_not(None)).limit(1)):
        return
    request = views(ctx, [ticket], private=False, descriptions=False)[0]
    payload = {
        "event": event.kind,
        "event_id": event.id,
        "lianhu_status": ticket.status,
        "service_request": request,
    }
    queue_status_change(ctx, ticket, event.id, payload)


def queue_status_change(
    ctx: ServiceContext, ticket: Ticket, event_id: int, payload: dict[str, object]
) -> int:
    """One outbox row per registered webhook for one ticket event (the dedupe key makes it once)."""
    hooks = ctx.session.execute(
        select(ApiKey.id, ApiKey.identity_id).where(
            ApiKey.webhook_url.is_not(None), ApiKey.revoked_at.is_(None)
        )
    ).all()
    now = ctx.clock.now()
    for key_id, identity_id in hooks:
        ctx.session.add(
            OutboxMessage(
                dedupe_key=f"{WEBHOOK_KIND}:{ticket.id}:{event_id}:{key_id}",
                identity_id=identity_id,
                channel=WEBHOOK_CHANNEL,
                kind=WEBHOOK_KIND,
                ticket_id=ticket.id,
                text_key="",
                params=payload,
                choices=[],
                created_at=now,
                next_attempt_at=now,
            )
        )
    if hooks:
        ctx.session.flush()
    return len(hooks)


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str


def webhook_target(session: Session, identity_id: int) -> WebhookTarget | None:
    """Where the webhook rows of an integrator's identity go now (None: removed or revoked)."""
    row = session.scalar(select(ApiKey).where(ApiKey.identity_id == identity_id))
    if row is None or row.revoked_at is not None or not row.webhook_url or not row.webhook_secret:
        return None
    return WebhookTarget(row.webhook_url, row.webhook_secret)
