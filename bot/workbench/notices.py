"""Notices on the workbench: the latest notices and consultations in the viewer's part of the
community, and one notice's receipts per household with the households not reached (to visit)."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from bot.workbench.web import PREFIX, Refused, RowId, Workbench
from core.errors import NotFoundError
from data.services.notice_desk import notice_receipts, recent_notices

KIND_WORDS = {"notice": "通知", "consult": "议事"}
VIA_WORDS = {
    "web": "网页",
    "wechat": "微信",
    "wecom": "企业微信",
    "telegram": "Telegram",
    "console": "控制台",
    "phone": "电话按键",
    "sender": "发送人本户",
}
CALL_WORDS = {
    "": "不用打",
    "due": "待拨打",
    "dialing": "正在拨打",
    "answered": "已接听",
    "failed": "没打通",
    "cancelled": "不再拨打",
}
RESULT_WORDS = {"answered": "接听", "busy": "占线", "no_answer": "无人接听", "error": "线路故障"}


def mount(api: FastAPI, wb: Workbench) -> None:
    env = wb.templates.env
    env.globals.update(KINDS=KIND_WORDS, VIAS=VIA_WORDS, CALLS=CALL_WORDS, RESULTS=RESULT_WORDS)

    @api.get(f"{PREFIX}/notices")
    def notices_page(request: Request) -> HTMLResponse:
        session = wb.session(request, "notices")
        with wb.unit() as ctx:
            rows = recent_notices(ctx, session.actor)
        return wb.page(request, "notices.html", session, rows=rows, title="通知回执")

    @api.get(f"{PREFIX}/notices/{{notice_id}}")
    def notice_page(request: Request, notice_id: RowId) -> HTMLResponse:
        session = wb.session(request, "notices")
        found = None
        # The refusal is suppressed inside the unit of work, so its audit row is committed.
        with wb.unit() as ctx, contextlib.suppress(NotFoundError):
            found = notice_receipts(ctx, session.actor, notice_id)
        if found is None:
            raise Refused(404, "workbench.not_found")
        title = f"{KIND_WORDS.get(found.notice.kind, '')} {found.notice.id} 回执"
        return wb.page(request, "notice.html", session, n=found, title=title)
