"""Notices on the workbench: the latest notices and consultations in the viewer's part of the
community, one notice's receipts per household with the households not reached (to visit), and a
notice sent from the page (drafted, read back with its scope and households, then sent), through the
same services as a notice said in the chat."""

from __future__ import annotations

import contextlib
import secrets

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import IntegrityError

from bot.workbench.web import PREFIX, Refused, RowId, Workbench, back
from core.conversation import Actor
from core.errors import NotFoundError, PermissionDenied
from data.services import ServiceContext
from data.services.notice_desk import notice_receipts, recent_notices
from data.services.notices import (
    SENDERS,
    OutOfScope,
    RateLimited,
    Scope,
    check_rate,
    households_in,
    resolve_scope,
    send,
    sent_from_draft,
)

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
        may_send = session.actor.role in SENDERS
        return wb.page(request, "notices.html", session, rows=rows, may_send=may_send, title="通知回执")

    @api.post(f"{PREFIX}/notices/draft")
    def draft(
        request: Request, csrf: str = Form(""), text: str = Form(""), scope: str = Form("")
    ) -> Response:
        """The notice read back before it goes: its words, the scope and how many households."""
        session = wb.session(request, "notices")
        wb.check_csrf(request, session, csrf)
        with wb.unit() as ctx:  # refusals are caught inside the unit: their audit rows are kept
            checked = _check(ctx, session.actor, text, scope)
            rows = recent_notices(ctx, session.actor) if isinstance(checked, tuple) else []
        if not isinstance(checked, tuple):
            return back(f"{PREFIX}/notices", checked)
        words, where, count = checked
        preview = {
            "text": words,
            "scope": scope.strip()[:40],
            "label": where.label,
            "count": count,
            "key": secrets.token_urlsafe(18),  # 24 characters
        }
        return wb.page(
            request, "notices.html", session, rows=rows, may_send=True, draft=preview, title="通知回执"
        )

    @api.post(f"{PREFIX}/notices/send")
    def send_notice(
        request: Request,
        csrf: str = Form(""),
        text: str = Form(""),
        scope: str = Form(""),
        draft: str = Form(""),
    ) -> Response:
        session = wb.session(request, "notices")
        wb.check_csrf(request, session, csrf)
        key = draft.strip()[:32] or None
        if key is not None and (sent := _already_sent(session.actor, key)) is not None:
            return sent
        notice_id = 0
        try:
            with wb.unit() as ctx:
                checked = _check(ctx, session.actor, text, scope)
                if isinstance(checked, tuple):
                    notice_id = send(
                        ctx, session.actor, kind="notice", text=checked[0], scope=checked[1], draft_key=key
                    ).notice_id
        except IntegrityError:
            # A second click that raced the first: the first one's insert won, nothing else was queued.
            if key is None or (sent := _already_sent(session.actor, key)) is None:
                raise
            return sent
        if not isinstance(checked, tuple):
            return back(f"{PREFIX}/notices", checked)
        return back(f"{PREFIX}/notices/{notice_id}", "workbench.notice_sent")

    def _already_sent(actor: Actor, key: str) -> Response | None:
        with wb.unit() as ctx:
            notice_id = sent_from_draft(ctx, actor, key)
        if notice_id is None:
            return None
        return back(f"{PREFIX}/notices/{notice_id}", "workbench.notice_already_sent")

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


def _check(ctx: ServiceContext, actor: Actor, text: str, said_scope: str) -> tuple[str, Scope, int] | str:
    """The notice's words, scope and household count, or the key of what is wrong with it."""
    words = " ".join(text.split())
    if not words:
        return "workbench.notice_empty"
    if len(words) > ctx.notices.max_chars:
        return "workbench.notice_too_long"
    try:
        scope = resolve_scope(ctx, actor, said_scope.strip()[:40])
        check_rate(ctx, actor)
    except RateLimited:
        return "workbench.notice_rate"
    except OutOfScope:
        return "workbench.notice_scope"
    except PermissionDenied:
        return "workbench.forbidden"
    count = len(households_in(ctx, scope))
    return (words, scope, count) if count else "workbench.notice_nobody"
