"""Activities (活动组织): a leader or staff member creates one, residents in its scope are told through
the outbox and sign up (报名 / 取消报名 or a key), a waitlist moves up on cancellations, those with a
place are reminded the day before, and the leader marks who came."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from core.conversation import Actor, DialogueState, State
from core.errors import NotFoundError, PermissionDenied
from core.messages import Choice, Reply
from data.models import Activity, ActivitySignup, Grid, Household, Identity, Resident, Unit
from data.services import ServiceContext
from data.services.conversations import ask_if_idle
from data.services.handling import audit
from data.services.outbox import notify

SIGNED, WAITLIST, CANCELLED = "signed", "waitlist", "cancelled"
SCOPES = {"leader": "unit", "grid": "grid", "staff": "community", "duty": "community"}
OFFER_KEY = "activity.notice"


@dataclass(frozen=True)
class SignupResult:
    activity: Activity
    status: str  # signed | waitlist | already_signed | already_waitlist
    position: int = 0  # place on the waitlist


def params(ctx: ServiceContext, activity: Activity) -> dict[str, str]:
    return {
        "activity_no": activity.public_no,
        "title": activity.title,
        "when": ctx.when(activity.starts_at),
        "place": activity.place,
        "capacity": str(activity.capacity),
    }


def offer_choices(activity: Activity) -> tuple[Choice, ...]:
    return (
        Choice("1", key="choice.sign_up", action="activity.sign_up", arg=activity.public_no),
        Choice("2", key="choice.no_need", action="help.menu"),
    )


def create(
    ctx: ServiceContext, actor: Actor, *, title: str, starts_at: datetime, place: str, capacity: int
) -> tuple[Activity, int]:
    """A new activity in the creator's part of the community; returns it and how many were told."""
    scope = SCOPES.get(actor.role)
    if scope is None or actor.community_id is None:
        audit(ctx, actor, "refused", "create activity")
        raise PermissionDenied("activity")
    now = ctx.clock.now()
    if capacity < 1 or not title.strip() or not place.strip() or starts_at <= now:
        raise ValueError("an activity needs a title, a place, a capacity and a time ahead")
    activity = Activity(
        public_no=_new_no(ctx),
        community_id=actor.community_id,
        title=title.strip()[:100],
        starts_at=starts_at,
        place=place.strip()[:100],
        capacity=capacity,
        scope=scope,
        unit_id=actor.unit_id if scope == "unit" else None,
        grid_id=actor.grid_id if scope == "grid" else None,
        created_by=actor.staff_id,
        created_at=now,
        status="open",
    )
    ctx.session.add(activity)
    ctx.session.flush()
    told = 0
    p = params(ctx, activity)
    question = Reply(OFFER_KEY, p, offer_choices(activity)).to_json()
    pairs = (("1", "choice.sign_up"),)
    for resident_id in _residents_in_scope(ctx, activity):
        told += notify(
            ctx,
            kind="activity",
            key=OFFER_KEY,
            params=p,
            resident_id=resident_id,
            event_id=f"activity-{activity.id}",
            choices=pairs,
        )
        for ident_id in ctx.session.scalars(
            select(Identity.id).where(Identity.resident_id == resident_id, Identity.staff_id.is_(None))
        ):
            state = DialogueState(
                State.ACTIVITY_OFFER, {"activity_no": activity.public_no, "prompt": [question]}
            )
            ask_if_idle(ctx, ident_id, state)
    return activity, told


def _new_no(ctx: ServiceContext) -> str:
    for _ in range(50):
        no = str(1000 + secrets.randbelow(9000))  # four digits: not mistaken for a six-digit ticket
        if ctx.session.scalar(select(Activity.id).where(Activity.public_no == no)) is None:
            return no
    raise RuntimeError("no free activity number")


def _scope_condition(activity: Activity):  # type: ignore[no-untyped-def]
    if activity.scope == "unit":
        return Household.unit_id == activity.unit_id
    if activity.scope == "grid":
        return Unit.grid_id == activity.grid_id
    return Grid.community_id == activity.community_id


def _residents_in_scope(ctx: ServiceContext, activity: Activity) -> list[int]:
    return list(
        ctx.session.scalars(
            select(Resident.id)
            .join(Household, Household.id == Resident.household_id)
            .join(Unit, Unit.id == Household.unit_id)
            .join(Grid, Grid.id == Unit.grid_id)
            .where(_scope_condition(activity))
            .order_by(Resident.id)
        )
    )


def _in_scope(activity: Activity, actor: Actor) -> bool:
    if actor.resident_id is None or actor.community_id != activity.community_id:
        return False
    if activity.scope == "unit":
        return actor.unit_id == activity.unit_id
    if activity.scope == "grid":
        return actor.grid_id == activity.grid_id
    return True


def find_for(ctx: ServiceContext, actor: Actor, no: str | None, *, signed_only: bool = False) -> Activity:
    """The activity a resident means: the number said, else the one they hold a place at (to cancel),
    else the newest upcoming one in their scope."""
    now = ctx.clock.now()
    q = select(Activity).where(Activity.status == "open", Activity.starts_at > now)
    if no:
        q = q.where(Activity.public_no == no)
    if signed_only:
        mine = select(ActivitySignup.activity_id).where(
            ActivitySignup.resident_id == actor.resident_id, ActivitySignup.status.in_((SIGNED, WAITLIST))
        )
        q = q.where(Activity.id.in_(mine)).order_by(Activity.starts_at)
    else:
        q = q.order_by(Activity.created_at.desc(), Activity.id.desc())
    for activity in ctx.session.scalars(q):
        if _in_scope(activity, actor):
            return activity
    raise NotFoundError(no or "activity")


def _locked(ctx: ServiceContext, activity: Activity) -> Activity:
    """The activity row locked for this transaction, so two sign-ups cannot both take the last place."""
    row = ctx.session.scalar(select(Activity).where(Activity.id == activity.id).with_for_update())
    assert row is not None
    return row


def _signed_count(ctx: ServiceContext, activity: Activity) -> int:
    return int(
        ctx.session.scalar(
            select(func.count(ActivitySignup.id)).where(
                ActivitySignup.activity_id == activity.id, ActivitySignup.status == SIGNED
            )
        )
        or 0
    )


def _waitlist(ctx: ServiceContext, activity: Activity) -> list[ActivitySignup]:
    return list(
        ctx.session.scalars(
            select(ActivitySignup)
            .where(ActivitySignup.activity_id == activity.id, ActivitySignup.status == WAITLIST)
            .order_by(ActivitySignup.updated_at, ActivitySignup.id)
        )
    )


def sign_up(ctx: ServiceContext, actor: Actor, activity: Activity) -> SignupResult:
    """A place while there is one, else the end of the waitlist."""
    activity = _locked(ctx, activity)
    now = ctx.clock.now()
    row = ctx.session.scalar(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity.id, ActivitySignup.resident_id == actor.resident_id
        )
    )
    if row is not None and row.status == SIGNED:
        return SignupResult(activity, "already_signed")
    if row is not None and row.status == WAITLIST:
        return SignupResult(activity, "already_waitlist", _position(ctx, activity, row))
    status = SIGNED if _signed_count(ctx, activity) < activity.capacity else WAITLIST
    if row is None:
        assert actor.resident_id is not None
        row = ActivitySignup(activity_id=activity.id, resident_id=actor.resident_id, created_at=now)
        ctx.session.add(row)
    row.status, row.updated_at, row.attended = status, now, None
    ctx.session.flush()
    return SignupResult(activity, status, _position(ctx, activity, row) if status == WAITLIST else 0)


def _position(ctx: ServiceContext, activity: Activity, row: ActivitySignup) -> int:
    return next((i for i, r in enumerate(_waitlist(ctx, activity), start=1) if r.id == row.id), 0)


def cancel(ctx: ServiceContext, actor: Actor, activity: Activity) -> ActivitySignup | None:
    """Give up a place (or a waitlist spot); the first on the waitlist moves up and is told.
    Returns the signup that moved up, if any."""
    activity = _locked(ctx, activity)
    row = ctx.session.scalar(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity.id,
            ActivitySignup.resident_id == actor.resident_id,
            ActivitySignup.status.in_((SIGNED, WAITLIST)),
        )
    )
    if row is None:
        raise NotFoundError(activity.public_no)
    was = row.status
    now = ctx.clock.now()
    row.status, row.updated_at = CANCELLED, now
    ctx.session.flush()
    if was != SIGNED or _signed_count(ctx, activity) >= activity.capacity:
        return None
    waiting = _waitlist(ctx, activity)
    if not waiting:
        return None
    first = waiting[0]
    first.status, first.updated_at = SIGNED, now
    notify(
        ctx,
        kind="activity_promoted",
        key="activity.promoted",
        params=params(ctx, activity),
        resident_id=first.resident_id,
        event_id=f"promoted-{activity.id}-{first.id}-{now.isoformat()}",
    )
    ctx.session.flush()
    return first


def remind_due(ctx: ServiceContext) -> list[str]:
    """Remind everyone with a place, once, when an activity is less than the reminder time away."""
    now = ctx.clock.now()
    ahead = now + timedelta(hours=ctx.deadlines.activity_reminder_hours)
    due = ctx.session.scalars(
        select(Activity)
        .where(
            Activity.status == "open",
            Activity.reminded_at.is_(None),
            Activity.starts_at > now,
            Activity.starts_at <= ahead,
        )
        .with_for_update(skip_locked=True)
    ).all()
    for activity in due:
        p = params(ctx, activity)
        for signup in ctx.session.scalars(
            select(ActivitySignup).where(
                ActivitySignup.activity_id == activity.id, ActivitySignup.status == SIGNED
            )
        ):
            notify(
                ctx,
                kind="activity_reminder",
                key="activity.reminder",
                params=p,
                resident_id=signup.resident_id,
                event_id=f"reminder-{activity.id}",
            )
        activity.reminded_at = now
    ctx.session.flush()
    return [a.public_no for a in due]
