"""The community data map, the alerts page and the audit log."""

from __future__ import annotations

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from bot.workbench.web import PREFIX, PageNo, Refused, RowId, Workbench, back
from core.errors import NotFoundError, PermissionDenied
from data.services import alert_desk, auditlog
from data.services.datamap import HEAT_LEVELS, community_map


def mount(api: FastAPI, wb: Workbench) -> None:
    @api.get(f"{PREFIX}/map")
    def map_page(request: Request) -> HTMLResponse:
        session = wb.session(request, "map")
        with wb.unit() as ctx:
            grids = community_map(ctx, session.actor)
        return wb.page(
            request, "map.html", session, grids=grids, levels=range(HEAT_LEVELS + 1), title="社区数据地图"
        )

    @api.get(f"{PREFIX}/alerts")
    def alerts_page(request: Request) -> HTMLResponse:
        session = wb.session(request, "alerts")
        with wb.unit() as ctx:
            emergencies = alert_desk.open_emergencies(ctx, session.actor)
            clusters = alert_desk.cluster_alerts(ctx, session.actor)
        return wb.page(
            request, "alerts.html", session, emergencies=emergencies, clusters=clusters, title="预警"
        )

    @api.post(f"{PREFIX}/alerts/{{alert_id}}/ack")
    def acknowledge(request: Request, alert_id: RowId, csrf: str = Form("")) -> Response:
        session = wb.session(request, "alerts")
        wb.check_csrf(request, session, csrf)
        found = True
        with wb.unit() as ctx:
            try:
                alert_desk.acknowledge_cluster(ctx, session.actor, alert_id)
            except NotFoundError:
                found = False
        if not found:
            raise Refused(404, "workbench.not_found")
        return back(f"{PREFIX}/alerts", "workbench.alert_acknowledged")

    @api.get(f"{PREFIX}/audit")
    def audit_page(request: Request, page: PageNo = 1) -> HTMLResponse:
        session = wb.session(request, "audit")
        with wb.unit() as ctx:
            try:
                rows, pages = auditlog.entries(ctx, session.actor, page)
            except PermissionDenied:
                rows, pages = [], 0
        if not pages:
            raise Refused(403)
        return wb.page(request, "audit.html", session, rows=rows, page=page, pages=pages, title="审计日志")
