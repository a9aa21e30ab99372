"""Figures and charts: `bot report`'s figures week by week beside the seed's targets (ECharts, vendored
in static/vendor), the leaders' performance, and the same as CSV and XLSX downloads."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from bot.workbench.web import PREFIX, XLSX, Refused, Workbench, download
from data.reports import summary_rows
from data.services import figures
from data.services.ledger import as_csv, as_xlsx

WEEKS = 12


def charts(series: figures.Series) -> list[dict[str, Any]]:
    """What each chart draws (workbench.js turns these into ECharts options; targets are lines)."""
    t = series.targets
    return [
        {"id": "by-category", "title": "每周工单数（按类别）", "kind": "stack", "x": series.weeks,
         "series": [{"name": k, "data": v} for k, v in series.by_category.items()]},
        {"id": "times", "title": "受理、办结时间中位数（小时）", "kind": "line", "x": series.weeks,
         "series": [{"name": "受理", "data": series.accept_hours}, {"name": "办结", "data": series.resolve_hours}],
         "target": {"name": "受理时限 24 小时", "value": 24}},
        {"id": "answered", "title": "24 小时内响应占比（%）", "kind": "line", "x": series.weeks,
         "series": [{"name": "24 小时内响应", "data": series.answered_24h}],
         "target": {"name": "目标 100%", "value": round(t["answered_24h_share"] * 100)}, "max": 100},
        {"id": "satisfaction", "title": "满意率（满意 + 基本满意，%）", "kind": "line", "x": series.weeks,
         "series": [{"name": "满意率", "data": series.satisfaction}],
         "target": {"name": "目标 95%", "value": round(t["satisfaction_rate"] * 100)}, "max": 100},
        {"id": "emergencies", "title": "紧急求助与响应时间", "kind": "bar-line", "x": series.weeks,
         "series": [{"name": "紧急求助（件）", "data": series.emergencies},
                    {"name": "响应时间中位数（分钟）", "data": series.ack_minutes}],
         "target": {"name": "响应目标 30 分钟", "value": t["emergency_ack_minutes"]}},
    ]  # fmt: skip


def mount(api: FastAPI, wb: Workbench) -> None:
    @api.get(f"{PREFIX}/figures")
    def figures_page(request: Request, period: str = "week") -> HTMLResponse:
        session = wb.session(request, "figures")
        period = period if period in ("week", "month") else "week"
        with wb.unit() as ctx:
            report = figures.summary(ctx, session.actor, period)
            series = figures.weekly(ctx, session.actor, WEEKS)
            people = figures.leaders(ctx, session.actor)
        return wb.page(
            request,
            "figures.html",
            session,
            report=report,
            rows=summary_rows(report),
            charts=charts(series),
            people=people,
            period=period,
            title="统计",
        )

    @api.get(f"{PREFIX}/figures.{{fmt}}")
    def figuresdownload(request: Request, fmt: str) -> Response:
        session = wb.session(request, "figures")
        if fmt not in ("csv", "xlsx"):
            raise Refused(404, "workbench.not_found")
        with wb.unit() as ctx:
            report = figures.summary(ctx, session.actor, "week")
            rows = [["指标", "数值", "目标"], *map(list, summary_rows(report)), []]
            rows += figures.table(
                figures.weekly(ctx, session.actor, WEEKS), figures.leaders(ctx, session.actor)
            )
        if fmt == "csv":
            return download(as_csv(rows), "text/csv; charset=utf-8", "figures.csv")
        return download(as_xlsx(rows, "统计"), XLSX, "figures.xlsx")
