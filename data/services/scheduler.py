"""Deadline work, run periodically: escalate overdue tickets, re-alert emergencies, close unrated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select

from data import workflow
from data.models import Ticket
from data.services import ServiceContext
from data.services.activities import remind_due
from data.services.alerts import alert_emergency
from data.services.consultations import close_due
from data.services.handling import escalate, tell_residents, transition
from data.services.seen import forget_expired
from data.services.tickets import set_due


@dataclass
class SchedulerReport:
    escalated: list[str] = field(default_factory=list)
    realerted: list[str] = field(default_factory=list)
    closed_unrated: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)  # activities whose sign-ups were reminded
    consultations_closed: list[int] = field(default_factory=list)


def run_due(ctx: ServiceContext) -> SchedulerReport:
    """One pass over everything that is due now. Idempotent: running it twice changes nothing more."""
    report = SchedulerReport()
    now = ctx.clock.now()
    forget_expired(ctx)
    _realert_emergencies(ctx, now, report)
    overdue = ctx.session.scalars(
        select(Ticket)
        .where(
            Ticket.urgent.is_(False),
            or_(
                Ticket.status.in_((workflow.SUBMITTED, workflow.REOPENED)) & (Ticket.accept_due_at < now),
                Ticket.status.in_((workflow.ACCEPTED, workflow.IN_PROGRESS)) & (Ticket.resolve_due_at < now),
            ),
        )
        .order_by(Ticket.id)
        .with_for_update(skip_locked=True)
    ).all()
    for ticket in overdue:
        if not escalate(ctx, None, ticket, ctx.words("note.overdue"), kind="overdue"):
            set_due(ctx, ticket)  # already at the top tier: restart the clock, staff were told
        report.escalated.append(ticket.public_no)
    limit = now - timedelta(hours=ctx.deadlines.rating_timeout_hours)
    for ticket in ctx.session.scalars(
        select(Ticket)
        .where(Ticket.status == workflow.RESOLVED, Ticket.resolved_at <= limit)
        .with_for_update(skip_locked=True)
    ).all():
        event_id = transition(ctx, None, ticket, workflow.CLOSED, ctx.words("note.closed_unrated"))
        tell_residents(ctx, ticket, "closed", "notify.closed_unrated", event_id)
        report.closed_unrated.append(ticket.public_no)
    report.reminded = remind_due(ctx)
    report.consultations_closed = close_due(ctx)
    ctx.session.flush()
    return report


def _realert_emergencies(ctx: ServiceContext, now, report: SchedulerReport) -> None:  # type: ignore[no-untyped-def]
    every = timedelta(minutes=ctx.deadlines.emergency_realert_minutes)
    rows = ctx.session.scalars(
        select(Ticket)
        .where(Ticket.urgent.is_(True), Ticket.acknowledged_at.is_(None), Ticket.status == workflow.SUBMITTED)
        .with_for_update(skip_locked=True)
    ).all()
    for ticket in rows:
        if ticket.last_alert_at is not None and now - ticket.last_alert_at < every:
            continue
        alert_emergency(ctx, ticket, f"realert-{now.isoformat()}")
        report.realerted.append(ticket.public_no)
