"""Weekly / monthly figures for the community office, beside the seed's targets."""

from __future__ import annotations

import csv
import html
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, case, cast, func, or_, select

from data import workflow
from data.models import Grid, Rating, Ticket, Unit
from data.service_figures import MISMATCH_TARGET, ProviderFigures, mismatch_rate, provider_figures
from data.services import ServiceContext
from data.services.risk import figures as safety_figures

TARGETS = {"answered_24h_share": 1.0, "satisfaction_rate": 0.95, "emergency_ack_minutes": 30}
PERIOD_DAYS = {"week": 7, "month": 30}


@dataclass
class Report:
    period: str
    start: datetime
    end: datetime
    grid: str | None
    total: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_item: dict[str, int] = field(default_factory=dict)
    by_unit: dict[str, int] = field(default_factory=dict)
    median_accept_hours: float | None = None
    median_resolve_hours: float | None = None
    answered_24h_share: float | None = None
    overdue: list[str] = field(default_factory=list)
    ratings: int = 0
    satisfaction_rate: float | None = None  # 满意 + 基本满意 among rated
    fully_satisfied_rate: float | None = None
    emergencies: int = 0
    emergency_ack_median_minutes: float | None = None
    emergency_ack_max_minutes: float | None = None
    emergency_ack_within_target: float | None = None
    unacknowledged_emergencies: int = 0
    # safety questions (「您现在有危险吗？」): asked / confirmed (or no answer) / declined / unanswered
    safety: dict[str, int] = field(default_factory=dict)
    messages: int = 0  # words the machine could not place, passed to a person (留言)
    providers: list[ProviderFigures] = field(default_factory=list)  # service resources (转介)
    mismatch_rate: float | None = None  # 供需错位率


def _median(values: list[float]) -> float | None:
    return round(float(statistics.median(values)), 2) if values else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def hours_between(ctx: ServiceContext, start: Any, end: Any) -> Any:
    """SQL for the hours from one datetime column to another, computed by the database (fetching
    floats instead of datetimes keeps a report over 100,000 tickets fast)."""
    if ctx.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 24.0
    return cast(func.extract("epoch", end - start), Float) / 3600.0


def overdue_condition(now: datetime) -> Any:
    """Still waiting past its deadline: to be accepted, or (once accepted) to be resolved."""
    return or_(
        Ticket.status.in_((workflow.SUBMITTED, workflow.REOPENED)) & (Ticket.accept_due_at < now),
        Ticket.status.in_((workflow.ACCEPTED, workflow.IN_PROGRESS)) & (Ticket.resolve_due_at < now),
    )


def build_report(
    ctx: ServiceContext, period: str, *, grid_code: str | None = None, end: str | datetime | None = None
) -> Report:
    if isinstance(end, str):
        end_at = datetime.fromisoformat(end) + timedelta(days=1)
    else:
        end_at = end or ctx.clock.now()
    start = end_at - timedelta(days=PERIOD_DAYS[period])
    report = Report(period, start, end_at, grid_code)
    base = [Ticket.created_at >= start, Ticket.created_at < end_at]
    if grid_code:
        grid = ctx.session.scalar(select(Grid).where(Grid.code == grid_code))
        base.append(Ticket.grid_id == (grid.id if grid else -1))
    s = ctx.session
    units = {u.id: u.name for u in s.scalars(select(Unit))}
    names = {it.code: it.name for it in ctx.catalog.items()}
    cats = {c.code: c.name for c in ctx.catalog.categories}
    by_cat: Counter[str] = Counter()
    by_item: Counter[str] = Counter()
    by_unit: Counter[str] = Counter()
    for category, item, unit_id, n in s.execute(
        select(Ticket.category, Ticket.item, Ticket.unit_id, func.count(Ticket.id))
        .where(*base)
        .group_by(Ticket.category, Ticket.item, Ticket.unit_id)
    ):
        by_cat[cats.get(category, category)] += n
        by_item[names.get(item, item)] += n
        by_unit[units.get(unit_id, "未分配") if unit_id else "未分配"] += n
        report.total += n
    report.by_category, report.by_item, report.by_unit = (
        dict(by_cat.most_common()),
        dict(by_item.most_common()),
        dict(by_unit.most_common()),
    )
    accept = hours_between(ctx, Ticket.created_at, Ticket.accepted_at)
    resolve = hours_between(ctx, Ticket.created_at, Ticket.resolved_at)
    ack = hours_between(ctx, Ticket.created_at, Ticket.acknowledged_at) * 60
    urgent = [*base, Ticket.urgent.is_(True)]
    answered, emergencies, unacknowledged, acked, acked_in_time, ack_max = s.execute(
        select(
            func.sum(case((accept <= 24, 1), else_=0)),
            func.sum(case((Ticket.urgent.is_(True), 1), else_=0)),
            func.sum(
                case(
                    (
                        Ticket.urgent.is_(True)
                        & Ticket.acknowledged_at.is_(None)
                        & (Ticket.status != workflow.CANCELLED),
                        1,
                    ),
                    else_=0,
                )
            ),
            func.sum(case((Ticket.urgent.is_(True) & Ticket.acknowledged_at.is_not(None), 1), else_=0)),
            func.sum(case((Ticket.urgent.is_(True) & (ack <= TARGETS["emergency_ack_minutes"]), 1), else_=0)),
            func.max(case((Ticket.urgent.is_(True), ack))),
        ).where(*base)
    ).one()
    report.overdue = list(
        s.scalars(
            select(Ticket.public_no).where(*base, overdue_condition(ctx.clock.now())).order_by(Ticket.id)
        )
    )
    report.emergencies = int(emergencies or 0)
    report.unacknowledged_emergencies = int(unacknowledged or 0)
    accept_h: list[float] = []
    resolve_h: list[float] = []
    for a, r in s.execute(
        select(accept, resolve).where(
            *base, Ticket.accepted_at.is_not(None) | Ticket.resolved_at.is_not(None)
        )
    ):  # numbers computed by the database: reading datetimes back would cost most of the report's time
        if a is not None:
            accept_h.append(a)
        if r is not None:
            resolve_h.append(r)
    report.median_accept_hours = _median(accept_h)
    report.median_resolve_hours = _median(resolve_h)
    report.answered_24h_share = round(int(answered or 0) / report.total, 4) if report.total else None
    report.emergency_ack_median_minutes = _median(
        list(s.scalars(select(ack).where(*urgent, ack.is_not(None))))
    )
    report.emergency_ack_max_minutes = _rounded(ack_max)
    report.emergency_ack_within_target = round(int(acked_in_time or 0) / acked, 4) if acked else None
    scores = list(s.scalars(select(Rating.score).join(Ticket, Ticket.id == Rating.ticket_id).where(*base)))
    report.ratings = len(scores)
    if scores:
        report.satisfaction_rate = round(sum(s in (1, 2) for s in scores) / len(scores), 4)
        report.fully_satisfied_rate = round(sum(s == 1 for s in scores) / len(scores), 4)
    report.safety = safety_figures(ctx, start, end_at)
    report.messages = int(s.scalar(select(func.count(Ticket.id)).where(*base, Ticket.kind == "message")) or 0)
    grid_id = None
    if grid_code:
        grid_id = s.scalar(select(Grid.id).where(Grid.code == grid_code)) or -1
    report.providers = provider_figures(ctx, start, end_at, grid_id)
    report.mismatch_rate = mismatch_rate(report.providers)
    return report


def _safety(f: dict[str, int]) -> str:
    return f"{f.get('asked', 0)} / {f.get('confirmed', 0)} / {f.get('declined', 0)}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _num(v: float | None, unit: str) -> str:
    return "—" if v is None else f"{v:g} {unit}"


def summary_rows(r: Report) -> list[tuple[str, str, str]]:
    """(figure, value, target) rows shared by every format."""
    return [
        ("工单总数", str(r.total), ""),
        ("受理时间中位数", _num(r.median_accept_hours, "小时"), ""),
        ("办结时间中位数", _num(r.median_resolve_hours, "小时"), ""),
        ("24小时内响应占比", _pct(r.answered_24h_share), "24 小时内响应 100%"),
        ("超时工单", str(len(r.overdue)), "0"),
        ("评价数", str(r.ratings), ""),
        ("满意率（满意+基本满意）", _pct(r.satisfaction_rate), "≥ 95%"),
        ("紧急求助", str(r.emergencies), ""),
        ("紧急响应时间中位数", _num(r.emergency_ack_median_minutes, "分钟"), "≤ 30 分钟"),
        ("紧急响应最长", _num(r.emergency_ack_max_minutes, "分钟"), "≤ 30 分钟"),
        ("30分钟内响应占比", _pct(r.emergency_ack_within_target), "100%"),
        ("未响应的紧急求助", str(r.unacknowledged_emergencies), "0"),
        ("安全询问（问过 / 确认有危险 / 答没有）", _safety(r.safety), ""),
        ("居民留言（转人工阅读）", str(r.messages), ""),
        ("转介服务", str(sum(p.referred for p in r.providers)), ""),
        ("供需错位率（退回 + 不满意 / 转介）", _pct(r.mismatch_rate), f"≤ {MISMATCH_TARGET:.0%}"),
    ]


PROVIDER_HEADER = ("服务资源", "转介", "按时接单", "办结", "退回", "评价", "满意率")


def provider_rows(r: Report) -> list[tuple[str, ...]]:
    """Per service resource with referrals in the period (the whole list would be mostly zeros)."""
    return [
        (
            p.name,
            str(p.referred),
            str(p.accepted_in_time),
            str(p.resolved),
            str(p.returned),
            str(p.ratings),
            _pct(p.satisfaction_rate),
        )
        for p in r.providers
        if p.referred
    ]


def format_report(r: Report, fmt: str = "md") -> str:
    title = f"联户工作{'周' if r.period == 'week' else '月'}报 {r.start:%Y-%m-%d} 至 {(r.end - timedelta(seconds=1)):%Y-%m-%d}"
    if r.grid:
        title += f"（网格 {r.grid}）"
    rows = summary_rows(r)
    groups = [("按类别", r.by_category), ("按事项", r.by_item), ("按联户单元", r.by_unit)]
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["section", "name", "value", "target"])
        for name, value, target in rows:
            w.writerow(["summary", name, value, target])
        for section, counts in groups:
            for name, n in counts.items():
                w.writerow([section, name, n, ""])
        for no in r.overdue:
            w.writerow(["超时工单", no, "", ""])
        for row in provider_rows(r):
            w.writerow(["服务资源", row[0], " / ".join(row[1:]), ""])
        return out.getvalue()
    if fmt == "html":
        esc = html.escape
        parts = [
            f"<!doctype html><meta charset='utf-8'><title>{esc(title)}</title><h1>{esc(title)}</h1>",
            "<table><tr><th>指标</th><th>数值</th><th>目标</th></tr>",
        ]
        parts += [f"<tr><td>{esc(a)}</td><td>{esc(b)}</td><td>{esc(c)}</td></tr>" for a, b, c in rows]
        parts.append("</table>")
        for section, counts in groups:
            parts.append(f"<h2>{esc(section)}</h2><table>")
            parts += [f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in counts.items()]
            parts.append("</table>")
        parts.append(
            "<h2>服务资源（转介）</h2><table><tr>" + "".join(f"<th>{h}</th>" for h in PROVIDER_HEADER)
        )
        parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in provider_rows(r)]
        parts.append("</table>")
        return "\n".join(parts)
    lines = [f"# {title}", "", "| 指标 | 数值 | 目标 |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    for section, counts in groups:
        lines += ["", f"## {section}", "", "| 名称 | 数量 |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in counts.items()]
    if r.overdue:
        lines += ["", "## 超时工单", "", ", ".join(r.overdue[:200])]
    providers = provider_rows(r)
    if providers:
        lines += ["", "## 服务资源（转介）", "", "| " + " | ".join(PROVIDER_HEADER) + " |", "|---" * 7 + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in providers]
    return "\n".join(lines) + "\n"
