"""The figures page: `bot report`'s figures week by week (for charts, beside the seed's targets) and
the leaders' performance, within the actor's part of the community. One pass over the period's rows."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal, select

from core.conversation import Actor
from data import workflow
from data.models import Activity, ActivitySignup, Grid, Rating, Staff, Ticket, TicketEvent, Unit
from data.reports import TARGETS, Report, build_report, hours_between
from data.services import ServiceContext


@dataclass
class Series:
    weeks: list[str]  # the Monday of each week, MM-DD
    by_category: dict[str, list[int]]
    accept_hours: list[float | None]
    resolve_hours: list[float | None]
    answered_24h: list[float | None]  # percent
    satisfaction: list[float | None]  # percent
    emergencies: list[int]
    ack_minutes: list[float | None]
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))


@dataclass(frozen=True)
class LeaderRow:
    name: str
    role: str
    place: str
    tasks: int
    on_time: float | None  # percent accepted before the deadline
    satisfaction: float | None
    reopened: int
    activities: int = 0  # activities organized (活动组织) in the period
    attended: int = 0  # residents marked as having come to them


def scope_conditions(actor: Actor) -> list:  # type: ignore[type-arg]
    if actor.role == "leader":
        return [Ticket.unit_id == actor.unit_id]
    if actor.role == "grid":
        return [Ticket.grid_id == actor.grid_id]
    return [Ticket.community_id == actor.community_id]


def since(ctx: ServiceContext, start: datetime) -> list[Any]:
    """Tickets filed from `start` on; no condition at all when every ticket is that recent (reading
    the whole table straight through beats looking each row up through the date index)."""
    oldest = ctx.session.scalar(select(func.min(Ticket.created_at)))
    return [] if oldest is None or oldest >= start else [Ticket.created_at >= start]


def summary(ctx: ServiceContext, actor: Actor, period: str) -> Report:
    """The same figures as `bot report` (a grid worker's for their grid)."""
    grid_code = None
    if actor.role in ("grid", "leader") and actor.grid_id:
        grid = ctx.session.get(Grid, actor.grid_id)
        grid_code = grid.code if grid else None
    return build_report(ctx, period, grid_code=grid_code)


def _week(ctx: ServiceContext, start: datetime) -> Any:
    """SQL for the number of whole weeks from `start` to a ticket's creation."""
    hours = hours_between(ctx, literal(start), Ticket.created_at)
    if ctx.session.get_bind().dialect.name == "sqlite":
        return cast(hours / 168, Integer)  # truncates, and hours are never negative here
    return cast(func.floor(hours / 168), Integer)


def weekly(ctx: ServiceContext, actor: Actor, weeks: int = 12) -> Series:
    """Week by week, in one pass over the period's tickets; the database computes each duration as
    a number (reading datetimes back and subtracting them here would cost most of the time)."""
    now = ctx.clock.now()
    monday = datetime.combine((now - timedelta(days=now.weekday())).date(), datetime.min.time())
    start = monday - timedelta(weeks=weeks - 1)
    labels = [(start + timedelta(weeks=i)).strftime("%m-%d") for i in range(weeks)]
    cats = {c.code: c.name for c in ctx.catalog.categories}
    by_cat: dict[str, list[int]] = {name: [0] * weeks for name in cats.values()}
    total, emergencies, answered = [0] * weeks, [0] * weeks, [0] * weeks
    accept: list[list[float]] = [[] for _ in range(weeks)]
    resolve: list[list[float]] = [[] for _ in range(weeks)]
    ack: list[list[float]] = [[] for _ in range(weeks)]
    q = select(
        _week(ctx, start),
        Ticket.category,
        Ticket.urgent,
        hours_between(ctx, Ticket.created_at, Ticket.accepted_at),
        hours_between(ctx, Ticket.created_at, Ticket.resolved_at),
        hours_between(ctx, Ticket.created_at, Ticket.acknowledged_at) * 60,
    ).where(*since(ctx, start), *scope_conditions(actor))
    for w, category, urgent, a, r, m in ctx.session.execute(q):
        i = min(int(w), weeks - 1)
        by_cat.setdefault(cats.get(category, category), [0] * weeks)[i] += 1
        total[i] += 1
        if a is not None:
            accept[i].append(a)
            answered[i] += a <= 24
        if r is not None:
            resolve[i].append(r)
        if urgent:
            emergencies[i] += 1
            if m is not None:
                ack[i].append(m)
    return Series(
        weeks=labels,
        by_category=by_cat,
        accept_hours=[_median(v) for v in accept],
        resolve_hours=[_median(v) for v in resolve],
        answered_24h=[round(100 * a / n, 1) if n else None for a, n in zip(answered, total, strict=True)],
        satisfaction=_weekly_satisfaction(ctx, actor, start, weeks),
        emergencies=emergencies,
        ack_minutes=[_median(v) for v in ack],
    )


def _weekly_satisfaction(
    ctx: ServiceContext, actor: Actor, start: datetime, weeks: int
) -> list[float | None]:
    """满意 + 基本满意 among the ratings of tickets filed each week (as `bot report` counts them)."""
    good: Counter[int] = Counter()
    rated: Counter[int] = Counter()
    week = _week(ctx, start)
    q = (
        select(week, Rating.score, func.count(Rating.id))
        .join(Rating, Rating.ticket_id == Ticket.id)
        .where(*since(ctx, start), *scope_conditions(actor))
        .group_by(week, Rating.score)
    )
    for w, score, n in ctx.session.execute(q):
        w = min(int(w), weeks - 1)
        rated[w] += n
        good[w] += n if score in (1, 2) else 0
    return [round(100 * good[w] / rated[w], 1) if rated[w] else None for w in range(weeks)]


def _median(values: list[float]) -> float | None:
    return round(float(statistics.median(values)), 1) if values else None


def leaders(ctx: ServiceContext, actor: Actor, days: int = 30) -> list[LeaderRow]:
    """联户长考核: tasks handled, share accepted on time, satisfaction, reopened — per leader and
    grid worker, over the tickets assigned to them that were filed in the last `days` days."""
    start = ctx.clock.now() - timedelta(days=days)
    s = ctx.session
    on_time = func.sum(
        case((and_(Ticket.accepted_at.is_not(None), Ticket.accepted_at <= Ticket.accept_due_at), 1), else_=0)
    )
    accepted = func.count(Ticket.accepted_at)
    base = [*since(ctx, start), Ticket.assignee_id.is_not(None), *scope_conditions(actor)]
    stats = {
        sid: (n, ok, acc)
        for sid, n, ok, acc in s.execute(
            select(Ticket.assignee_id, func.count(Ticket.id), on_time, accepted)
            .where(*base)
            .group_by(Ticket.assignee_id)
        )
    }
    sat: dict[int, list[int]] = defaultdict(list)
    for sid, score in s.execute(
        select(Ticket.assignee_id, Rating.score).join(Rating, Rating.ticket_id == Ticket.id).where(*base)
    ):
        sat[sid or 0].append(score)
    reopened = dict(
        s.execute(
            select(Ticket.assignee_id, func.count(TicketEvent.id))
            .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
            .where(*base, TicketEvent.kind == workflow.REOPENED)
            .group_by(Ticket.assignee_id)
        ).all()
    )
    organized = _activities(ctx, start)
    people = s.execute(
        select(Staff, Unit.name, Grid.name)
        .outerjoin(Unit, Unit.id == Staff.unit_id)
        .outerjoin(Grid, Grid.id == Staff.grid_id)
        .where(Staff.role.in_(("leader", "grid")), Staff.community_id == actor.community_id)
        .order_by(Staff.role.desc(), Staff.id)
    ).all()
    out = []
    for staff, unit_name, grid_name in people:
        if actor.role == "grid" and staff.grid_id != actor.grid_id:
            continue
        if actor.role == "leader" and staff.id != actor.staff_id:
            continue
        n, ok, acc = stats.get(staff.id, (0, 0, 0))
        scores = sat.get(staff.id, [])
        out.append(
            LeaderRow(
                name=staff.name,
                role=staff.role,
                place=unit_name or grid_name or "",
                tasks=n,
                on_time=round(100 * (ok or 0) / acc, 1) if acc else None,
                satisfaction=round(100 * sum(x in (1, 2) for x in scores) / len(scores), 1)
                if scores
                else None,
                reopened=reopened.get(staff.id, 0),
                activities=organized.get(staff.id, (0, 0))[0],
                attended=organized.get(staff.id, (0, 0))[1],
            )
        )
    return out


def _activities(ctx: ServiceContext, start: datetime) -> dict[int, tuple[int, int]]:
    """Per organizer: activities held from `start` on, and how many residents came to them."""
    came = (
        select(ActivitySignup.activity_id, func.count(ActivitySignup.id).label("n"))
        .where(ActivitySignup.attended.is_(True))
        .group_by(ActivitySignup.activity_id)
        .subquery()
    )
    rows = ctx.session.execute(
        select(Activity.created_by, func.count(Activity.id), func.coalesce(func.sum(came.c.n), 0))
        .outerjoin(came, came.c.activity_id == Activity.id)
        .where(Activity.starts_at >= start, Activity.status == "open", Activity.created_by.is_not(None))
        .group_by(Activity.created_by)
    )
    return {sid: (int(n), int(a)) for sid, n, a in rows}


def table(series: Series, people: list[LeaderRow]) -> list[list[str]]:
    """Everything on the page as rows, for the CSV and XLSX downloads."""
    out = [["周", *series.weeks]]
    for name, counts in series.by_category.items():
        out.append([f"工单数 {name}", *map(str, counts)])
    for label, values in (
        ("受理时间中位数（小时）", series.accept_hours),
        ("办结时间中位数（小时）", series.resolve_hours),
        ("24小时内响应占比（%）", series.answered_24h),
        ("满意率（%）", series.satisfaction),
        ("紧急求助", series.emergencies),
        ("紧急响应时间中位数（分钟）", series.ack_minutes),
    ):
        out.append([label, *("" if v is None else str(v) for v in values)])
    out.append([])
    out.append(
        [
            "姓名",
            "角色",
            "负责",
            "任务数",
            "按时受理率（%）",
            "满意率（%）",
            "重新办理",
            "组织活动",
            "参加人次",
        ]
    )
    for p in people:
        out.append(
            [
                p.name,
                p.role,
                p.place,
                str(p.tasks),
                _s(p.on_time),
                _s(p.satisfaction),
                str(p.reopened),
                str(p.activities),
                str(p.attended),
            ]
        )
    return out


def _s(v: float | None) -> str:
    return "" if v is None else str(v)
