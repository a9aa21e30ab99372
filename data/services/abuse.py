"""Abuse limits counted in the database (they hold across server processes) and refusals audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.conversation import Actor
from data.models import AuditLog, Identity, Ticket
from data.services import ServiceContext

BIND_REQUESTED = "bind_requested"
RATE_LIMITED = "rate_limited"


def record_refusal(ctx: ServiceContext, what: str, channel: str = "", external: str = "") -> None:
    """One audit entry for a sender refused by a limit (`what` names the limit, never their words)."""
    ident = None
    if channel and external:
        ident = ctx.session.scalar(
            select(Identity.id).where(Identity.channel == channel, Identity.external_id == external)
        )
    ctx.session.add(AuditLog(at=ctx.clock.now(), identity_id=ident, action=RATE_LIMITED, detail=what[:200]))


def binding_requests_today(ctx: ServiceContext, actor: Actor) -> int:
    """Address bindings this account asked for in the last 24 hours."""
    since = ctx.clock.now() - timedelta(hours=24)
    return (
        ctx.session.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.identity_id == actor.identity_id,
                AuditLog.action == BIND_REQUESTED,
                AuditLog.at >= since,
            )
        )
        or 0
    )


def proxy_reports_today(ctx: ServiceContext, actor: Actor) -> int:
    """Reports this resident filed for households other than their own in the last 24 hours."""
    since = ctx.clock.now() - timedelta(hours=24)
    query = select(func.count(Ticket.id)).where(
        Ticket.reporter_identity_id == actor.identity_id, Ticket.created_at >= since
    )
    if actor.household_id is not None:
        query = query.where(Ticket.household_id != actor.household_id)
    return ctx.session.scalar(query) or 0


def limited(ctx: ServiceContext, actor: Actor, what: str) -> None:
    """Audit a refusal by a database-counted limit."""
    ctx.session.add(
        AuditLog(at=ctx.clock.now(), identity_id=actor.identity_id, action=RATE_LIMITED, detail=what)
    )
