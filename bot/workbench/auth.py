"""Signing in and out: phone + password, or a one-time link from `python -m bot staff-link`."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.workbench.web import (
    COOKIE,
    PRE_COOKIE,
    PREFIX,
    Refused,
    Workbench,
    back,
    new_pre_token,
    safe_next,
    set_cookie,
)
from data.services.staff_auth import (
    Candidate,
    Outcome,
    check_password,
    hash_password,
    link_is_valid,
    password_hash_of,
    redeem_link,
    set_password,
    sign_out,
    signin_check,
    signin_finish,
)


def mount(api: FastAPI, wb: Workbench) -> None:
    secure = wb.settings.secure_cookies
    session_seconds = int(wb.settings.session_hours * 3600)

    def signed_in(next_url: str, token: str) -> Response:
        response = RedirectResponse(safe_next(next_url), status_code=303)
        set_cookie(response, COOKIE, token, secure, session_seconds)
        response.delete_cookie(PRE_COOKIE, path=PREFIX)
        return response

    def form_page(
        request: Request, name: str, error: str = "", status: int = 200, **context: object
    ) -> Response:
        pre = request.cookies.get(PRE_COOKIE) or new_pre_token()
        response = wb.page(request, name, None, pre=pre, error=error, **context)
        response.status_code = status
        set_cookie(response, PRE_COOKIE, pre, secure)
        return response

    def pre_ok(request: Request, sent: str) -> bool:
        pre = request.cookies.get(PRE_COOKIE, "")
        return bool(pre and sent and hmac.compare_digest(pre.encode(), sent.encode()))

    @api.get(PREFIX)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    @api.get(f"{PREFIX}/login")
    def login_page(request: Request, next: str = f"{PREFIX}/") -> Response:  # noqa: A002 - the query's name
        return form_page(request, "login.html", next=safe_next(next))

    @api.post(f"{PREFIX}/login")
    async def login(
        request: Request,
        phone: str = Form(""),
        password: str = Form(""),
        csrf: str = Form(""),
        next: str = Form(f"{PREFIX}/"),  # noqa: A002
    ) -> Response:
        if not pre_ok(request, csrf):
            raise Refused(403, "workbench.expired")
        client = request.client.host if request.client else "?"
        phone = phone.strip()[:20]

        def check() -> Candidate:
            with wb.unit() as ctx:
                return signin_check(ctx, wb.settings, phone, client)

        def finish(staff_id: int | None, ok: bool) -> Outcome:
            with wb.unit() as ctx:
                return signin_finish(ctx, wb.settings, phone, client, staff_id, ok)

        candidate = await asyncio.to_thread(check)
        refused = candidate.refused
        if not refused:
            ok = await asyncio.to_thread(check_password, candidate.password_hash, password)
            outcome = await asyncio.to_thread(finish, candidate.staff_id, ok)
            refused = outcome.refused
        if refused:
            return form_page(
                request,
                "login.html",
                wb.words(_REFUSAL[refused], minutes=f"{wb.settings.lockout_minutes:g}"),
                401 if refused == "wrong" else 429,
                next=safe_next(next),
                phone=phone,
            )
        return signed_in(next, outcome.token)

    @api.get(f"{PREFIX}/link/{{token}}")
    def link_page(request: Request, token: str) -> Response:
        with wb.unit() as ctx:
            valid = link_is_valid(ctx, token)
        return form_page(
            request,
            "link.html",
            "" if valid else wb.words("workbench.link_bad"),
            200 if valid else 410,
            token=token,
            valid=valid,
        )

    @api.post(f"{PREFIX}/link/{{token}}")
    def use_link(request: Request, token: str, csrf: str = Form("")) -> Response:
        if not pre_ok(request, csrf):
            raise Refused(403, "workbench.expired")
        with wb.unit() as ctx:
            session_token = redeem_link(ctx, wb.settings, token)
        if session_token is None:
            return form_page(
                request, "link.html", wb.words("workbench.link_bad"), 410, token=token, valid=False
            )
        return signed_in(f"{PREFIX}/account", session_token)

    @api.post(f"{PREFIX}/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        session = wb.session(request)
        wb.check_csrf(request, session, csrf)
        with wb.unit() as ctx:
            sign_out(ctx, request.cookies.get(COOKIE, ""))
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @api.get(f"{PREFIX}/account")
    def account(request: Request) -> HTMLResponse:
        return wb.page(request, "account.html", wb.session(request))

    @api.post(f"{PREFIX}/account")
    def change_password(
        request: Request,
        csrf: str = Form(""),
        current: str = Form(""),
        new: str = Form(""),
        again: str = Form(""),
    ) -> Response:
        session = wb.session(request)
        wb.check_csrf(request, session, csrf)
        with wb.unit() as ctx:
            stored = password_hash_of(ctx, session.actor)
        # Someone who came in by a sign-in link and has no password yet sets one without the old one.
        if new != again or len(new) < 8 or (stored and not check_password(stored, current)):
            return back(f"{PREFIX}/account", "workbench.password_bad")
        hashed = hash_password(new)
        with wb.unit() as ctx:
            set_password(ctx, session.actor, hashed)
        return back(f"{PREFIX}/account", "workbench.password_changed")


_REFUSAL = {
    "wrong": "workbench.signin_wrong",
    "locked": "workbench.signin_locked",
    "busy": "workbench.signin_busy",
}
