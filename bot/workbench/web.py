"""What every workbench page shares: the signed-in staff member, CSRF checks, templates, messages.

Pages are plain `def` endpoints (Starlette runs them on its thread pool), each unit of work is one
`with wb.unit() as ctx`. The session cookie holds a random token; the session lives in the database.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import Path as FastPath
from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.app import App
from data.services import ServiceContext
from data.services.handling import audit
from data.services.staff_auth import Session, session_for
from data.services.visibility import may_open

HERE = Path(__file__).resolve().parent
# Ids and page numbers from the address: out of range is a 422, never a database overflow.
RowId = Annotated[int, FastPath(ge=1, le=2**62)]
PageNo = Annotated[int, Query(ge=1, le=1_000_000)]


def small_int(value: str | None, digits: int = 12) -> int | None:
    """A form or query number: ASCII digits only ("²".isdigit() is true), short enough for the database."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= digits else None


COOKIE = "lianhu_wb"
PRE_COOKIE = "lianhu_wb_pre"  # the sign-in form's CSRF value, before there is a session
PREFIX = "/workbench"
# The pages need nothing inline: scripts and styles come from static/ (charts draw on a canvas).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CSP,
}

STATUS_WORDS = {
    "submitted": "待接单",
    "accepted": "已接单",
    "in_progress": "处理中",
    "resolved": "已办结待评价",
    "closed": "已关闭",
    "cancelled": "已撤销",
    "reopened": "重新办理",
    "open": "未关闭（全部）",
    "active": "待办（未办结）",
    "all": "全部",
}
ROLE_WORDS = {
    "leader": "联户长",
    "grid": "网格员",
    "staff": "社区工作人员",
    "duty": "社区值班",
    "resident": "居民",
    "provider": "服务机构",
}
STEP_WORDS = {
    "accept": "接单",
    "in_progress": "处理中",
    "resolve": "办结",
    "escalate": "上报",
    "assign": "指派",
    "note": "备注",
    "close": "关闭",
    "reopen": "重新办理",
    "verify": "核实代报",
    "refer": "转介",
}
EVENT_WORDS = {
    "created": "登记",
    "escalated": "上报",
    "urged": "居民催办",
    "assigned": "指派",
    "staff_note": "备注",
    "verified": "核实代报",
    "callback_requested": "电话留言",
    "referred": "转介",
    "returned": "服务机构退回",
    "provider_accepted": "服务机构接单",
    **{
        k: v
        for k, v in STATUS_WORDS.items()
        if k in ("accepted", "in_progress", "resolved", "closed", "cancelled", "reopened")
    },
}
RATING_WORDS = {1: "满意", 2: "基本满意", 3: "不满意"}


class SignInNeeded(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class Refused(Exception):
    """The page or step is not the signed-in person's: answered 403 (or 404 for a hidden matter)."""

    def __init__(self, status: int = 403, key: str = "workbench.forbidden") -> None:
        self.status = status
        self.key = key


class Workbench:
    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings.workbench
        self.tz = ZoneInfo(app.settings.timezone)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        env = self.templates.env
        env.filters.update(local=self.local, left=left, ago=self.ago, pct=pct, num=num)
        env.globals.update(
            STATUS=STATUS_WORDS, ROLES=ROLE_WORDS, STEPS=STEP_WORDS, EVENTS=EVENT_WORDS, RATINGS=RATING_WORDS
        )

    @contextmanager
    def unit(self) -> Iterator[ServiceContext]:
        """One unit of work on the data services."""
        with self.app.db.session() as s:
            yield self.app.context(s)

    def words(self, key: str, **params: Any) -> str:
        return self.app.strings.render(key, params).text

    # -- who is asking ------------------------------------------------------------------------------
    def session(self, request: Request, page: str | None = None) -> Session:
        """The signed-in staff member (SignInNeeded otherwise), refused a page their role may not open."""
        token = request.cookies.get(COOKIE, "")
        found = None
        if token:
            with self.unit() as ctx:
                found = session_for(ctx, token)
        if found is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInNeeded(target)
        if page is not None and not may_open(found.actor, page):
            with self.unit() as ctx:
                audit(ctx, found.actor, "refused", f"workbench page {page}")
            raise Refused()
        return found

    def check_csrf(self, request: Request, session: Session, sent: str) -> None:
        """Every state-changing request carries the session's CSRF token (form field or header)."""
        sent = sent or request.headers.get("x-csrf-token", "")
        if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            raise Refused(403, "workbench.expired")

    # -- answers ------------------------------------------------------------------------------------
    def page(self, request: Request, name: str, session: Session | None, **context: Any) -> HTMLResponse:
        msg = request.query_params.get("msg", "")
        flash = _flash(self, msg, request.query_params.get("arg", ""))
        nav = {}
        if session is not None:
            nav = {
                p: may_open(session.actor, p)
                for p in ("alerts", "notices", "registry", "registry_import", "map", "figures", "audit")
            }
        return self.templates.TemplateResponse(
            request,
            name,
            {
                "me": session,
                "csrf": session.csrf if session else "",
                "flash": flash,
                "flash_bad": msg not in _GOOD,
                "nav": nav,
                "prefix": PREFIX,
                **context,
            },
            headers=NO_STORE,
        )

    def refused(self, request: Request, err: Refused) -> HTMLResponse:
        response = self.page(request, "refused.html", None, message=self.words(err.key))
        response.status_code = err.status
        return response

    def local(self, value: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
        """A stored (naive UTC) time in the community's time zone."""
        if value is None:
            return "—"
        return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(self.tz).strftime(fmt)

    def ago(self, value: datetime | None) -> str:
        """How long ago (the app's clock, so tests with a manual clock agree)."""
        return "—" if value is None else duration((self.app.clock.now() - value).total_seconds())


_GOOD = {"workbench.done", "workbench.saved", "workbench.import_done", "workbench.password_changed",
         "workbench.alert_acknowledged", "workbench.notice_sent"}  # fmt: skip


def _flash(wb: Workbench, key: str, arg: str) -> str:
    if not key.startswith("workbench.") or key not in wb.app.strings:
        return ""
    return wb.words(
        key,
        step=STEP_WORDS.get(arg, ""),
        summary=arg[:200],
        minutes=f"{wb.settings.lockout_minutes:g}",
        limit=str(wb.app.settings.notices.max_chars),
    )


def back(path: str, msg: str = "", arg: str = "") -> RedirectResponse:
    """Post/redirect/get, with the message to show."""
    query = urlencode({k: v for k, v in (("msg", msg), ("arg", arg)) if v})
    return RedirectResponse(f"{path}{'?' if query else ''}{query}", status_code=303)


def sign_in_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/login?next={quote(next_url, safe='')}", status_code=303)


def safe_next(value: str) -> str:
    """Only a path inside the workbench (no open redirect)."""
    return (
        value
        if value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value
        else PREFIX + "/"
    )


def new_pre_token() -> str:
    return secrets.token_urlsafe(24)


def download(body: bytes, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def set_cookie(response: Response, name: str, value: str, secure: bool, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=PREFIX, httponly=True, samesite="strict", secure=secure
    )


def left(seconds: float | None) -> str:
    """Time to a deadline: 剩 3 小时 20 分 / 超时 1 天 2 小时."""
    if seconds is None:
        return "—"
    word = "剩" if seconds >= 0 else "超时"
    return f"{word} {duration(abs(seconds))}"


def duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {mins} 分"
    return f"{mins} 分"


def pct(value: float | None) -> str:
    """A share (0..1) as a percentage."""
    return "—" if value is None else f"{value * 100:.1f}%"


def num(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:g} {unit}".strip()
