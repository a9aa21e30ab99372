"""Phone calls for notices: which households are due a call now (within the allowed hours), the
outcome of each call (answered, the key pressed, busy, no answer: tried again after a spacing, up
to the configured attempts), and a resident's 「不要再打了」, which is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from core.conversation import Actor
from data.models import Notice, NoticeReceipt, Resident
from data.services import ServiceContext
from data.services.handling import audit
from data.services.notices import sender_name

RETRY_RESULTS = ("busy", "no_answer", "error")


@dataclass(frozen=True)
class CallJob:
    receipt_id: int
    notice_id: int
    kind: str  # notice | consult
    number: str
    resident_name: str
    sender: str
    text: str
    options: tuple[str, ...]
    attempt: int
    resident_id: int
    household_id: int


def within_hours(hours: str, now_utc: datetime, timezone: str) -> bool:
    """'08:00-20:00' (local) contains now; empty means any time."""
    if not hours.strip():
        return True
    start_s, _, end_s = hours.partition("-")
    start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
    local = now_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).time()
    return start <= local < end if start <= end else (local >= start or local < end)


def claim_calls(ctx: ServiceContext, limit: int) -> list[CallJob]:
    """Take up to `limit` calls that are due, marking them dialing; none outside the allowed hours."""
    now = ctx.clock.now()
    if limit <= 0 or not within_hours(ctx.notices.call_hours, now, ctx.timezone):
        return []
    q = (
        select(NoticeReceipt)
        .where(NoticeReceipt.call_state == "due", NoticeReceipt.call_due_at <= now)
        .order_by(NoticeReceipt.call_due_at, NoticeReceipt.id)
        .limit(limit)
    )
    if ctx.session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    jobs = []
    for receipt in ctx.session.scalars(q).all():
        notice = ctx.session.get(Notice, receipt.notice_id)
        person = _who_to_call(ctx, receipt.household_id)
        if notice is None or person is None or receipt.acknowledged_at is not None:
            receipt.call_state = "cancelled"
            continue
        receipt.call_state, receipt.called_at = "dialing", now
        receipt.call_attempts += 1
        jobs.append(
            CallJob(
                receipt.id,
                notice.id,
                notice.kind,
                person.phone or "",
                person.name,
                sender_name(ctx, notice),
                notice.text,
                tuple(notice.options),
                receipt.call_attempts,
                person.id,
                receipt.household_id,
            )
        )
    ctx.session.flush()
    return jobs


def _who_to_call(ctx: ServiceContext, household_id: int) -> Resident | None:
    """The resident who prefers voice, else the first with a phone who has not said 「不要再打了」."""
    people = ctx.session.scalars(
        select(Resident)
        .where(
            Resident.household_id == household_id,
            Resident.phone.is_not(None),
            Resident.no_notice_calls.is_(False),
        )
        .order_by(Resident.prefers_voice.desc(), Resident.id)
    ).all()
    return next((p for p in people if p.phone), None)


def call_finished(ctx: ServiceContext, receipt_id: int, result: str, key: str | None = None) -> None:
    """Record one call: answered (with the key pressed, if any) or busy / no answer (tried again later)."""
    receipt = ctx.session.get(NoticeReceipt, receipt_id)
    if receipt is None:
        return
    now = ctx.clock.now()
    receipt.call_result = result
    if result == "answered":
        receipt.call_state, receipt.answered_at = "answered", now
        if key == "1" and receipt.acknowledged_at is None:
            receipt.acknowledged_at, receipt.acknowledged_via = now, "phone"
        return
    if receipt.call_attempts >= ctx.notices.call_attempts:
        receipt.call_state = "failed"
        return
    receipt.call_state = "due"
    receipt.call_due_at = now + timedelta(minutes=ctx.notices.call_spacing_minutes)


def stop_calls(ctx: ServiceContext, actor: Actor) -> None:
    """The resident wants no more notice calls (emergencies are not notices): kept on their record."""
    resident = ctx.session.get(Resident, actor.resident_id)
    if resident is None:
        return
    resident.no_notice_calls = True
    others = select(Resident.id).where(
        Resident.household_id == resident.household_id,
        Resident.no_notice_calls.is_(False),
        Resident.id != resident.id,
    )
    if ctx.session.scalar(others.where(Resident.phone.is_not(None)).limit(1)) is None:
        ctx.session.execute(
            update(NoticeReceipt)
            .where(NoticeReceipt.household_id == resident.household_id, NoticeReceipt.call_state == "due")
            .values(call_state="cancelled")
        )
    audit(ctx, actor, "no_notice_calls", f"resident {resident.id}")
