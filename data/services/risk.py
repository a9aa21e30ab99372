"""The safety questions asked (a message may mean someone is in danger) and how they were answered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from core.conversation import Actor
from data.models import RiskCheck
from data.services import ServiceContext

ASKED, CONFIRMED, DECLINED, NO_ANSWER, UNCLEAR = "asked", "confirmed", "declined", "no_answer", "unclear"


def record_question(ctx: ServiceContext, actor: Actor, cues: tuple[str, ...]) -> int:
    """Log that the safety question was asked, with the cue that raised it."""
    check = RiskCheck(
        identity_id=actor.identity_id,
        channel=actor.channel,
        asked_at=ctx.clock.now(),
        cues=", ".join(cues)[:200],
        outcome=ASKED,
    )
    ctx.session.add(check)
    ctx.session.flush()
    return check.id


def record_answer(
    ctx: ServiceContext, check_id: int | None, outcome: str, ticket_id: int | None = None
) -> None:
    check = ctx.session.get(RiskCheck, check_id) if check_id else None
    if check is not None and check.outcome == ASKED:
        check.outcome, check.answered_at, check.ticket_id = outcome, ctx.clock.now(), ticket_id


def figures(ctx: ServiceContext, start: datetime, end: datetime) -> dict[str, int]:
    """asked / confirmed (alert raised, silence and unclear answers included) / declined, in a period."""
    rows = ctx.session.execute(
        select(RiskCheck.outcome, func.count())
        .where(RiskCheck.asked_at >= start, RiskCheck.asked_at < end)
        .group_by(RiskCheck.outcome)
    ).all()
    counts = {outcome: int(n) for outcome, n in rows}
    return {
        "asked": sum(counts.values()),
        "confirmed": counts.get(CONFIRMED, 0) + counts.get(NO_ANSWER, 0) + counts.get(UNCLEAR, 0),
        "declined": counts.get(DECLINED, 0),
        "unanswered": counts.get(ASKED, 0),
    }
