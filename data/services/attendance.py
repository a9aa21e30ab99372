"""Attendance at activities: the organizer's roster (numbered, for 签到) and who came."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.conversation import Actor
from core.errors import NotFoundError
from data.models import Activity, ActivitySignup, Household, Resident, Unit
from data.services import ServiceContext
from data.services.activities import SIGNED, WAITLIST
from data.services.handling import audit


def _own(ctx: ServiceContext, actor: Actor, no: str) -> Activity:
    """An activity the actor organizes (its creator, or staff of the community)."""
    activity = ctx.session.scalar(select(Activity).where(Activity.public_no == no))
    if activity is None or not (
        activity.created_by == actor.staff_id
        or (actor.role in ("staff", "duty") and activity.community_id == actor.community_id)
        or (actor.role == "grid" and activity.scope == "unit" and _unit_grid(ctx, activity) == actor.grid_id)
    ):
        audit(ctx, actor, "refused", "activity not organized by actor")
        raise NotFoundError(no)
    return activity


def _unit_grid(ctx: ServiceContext, activity: Activity) -> int | None:
    unit = ctx.session.get(Unit, activity.unit_id) if activity.unit_id else None
    return unit.grid_id if unit else None


@dataclass(frozen=True)
class RosterLine:
    n: int
    name: str
    address: str
    status: str
    attended: bool | None


def roster(ctx: ServiceContext, actor: Actor, no: str) -> tuple[Activity, list[RosterLine]]:
    """Who holds a place (numbered, for 签到) and who waits."""
    activity = _own(ctx, actor, no)
    rows = ctx.session.execute(
        select(ActivitySignup, Resident.name, Household)
        .join(Resident, Resident.id == ActivitySignup.resident_id)
        .join(Household, Household.id == Resident.household_id)
        .where(ActivitySignup.activity_id == activity.id, ActivitySignup.status.in_((SIGNED, WAITLIST)))
        .order_by(ActivitySignup.status == WAITLIST, ActivitySignup.updated_at, ActivitySignup.id)
    ).all()
    lines = [
        RosterLine(i, name, hh.address, signup.status, signup.attended)
        for i, (signup, name, hh) in enumerate(rows, start=1)
    ]
    return activity, lines


def mark_attendance(ctx: ServiceContext, actor: Actor, no: str, numbers: list[int]) -> int:
    """签到: the roster's numbers who came are marked attended, the other place holders absent."""
    activity, lines = roster(ctx, actor, no)
    signups = list(
        ctx.session.scalars(
            select(ActivitySignup)
            .where(ActivitySignup.activity_id == activity.id, ActivitySignup.status.in_((SIGNED, WAITLIST)))
            .order_by(ActivitySignup.status == WAITLIST, ActivitySignup.updated_at, ActivitySignup.id)
        )
    )
    came = 0
    for line, signup in zip(lines, signups, strict=True):
        if signup.status != SIGNED:
            continue
        signup.attended = line.n in numbers
        came += int(signup.attended)
    ctx.session.flush()
    return came
