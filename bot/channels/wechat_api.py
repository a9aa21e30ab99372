"""WeChat Official Account API: access token, media download, customer-service and template messages.

Blocking httpx calls: the webhook runs them in worker threads, the outbox dispatcher already runs in
one. Transient failures (network, 5xx, WeChat's "system busy") are retried with a short backoff; an
expired access token is refreshed once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from core.errors import ChannelError

log = logging.getLogger("lianhu.wechat")
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid / expired access token
BUSY_ERRORS = {-1, 45009}  # system busy, rate limited


class WechatApiError(ChannelError):
    """WeChat answered with an error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"wechat errcode {code}: {message}")
        self.code = code


class WechatApi:
    def __init__(
        self,
        base_url: str,
        app_id: str,
        app_secret: str,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self._http = httpx.Client(timeout=timeout)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def access_token(self, *, refresh: bool = False) -> str:
        """A cached access token (WeChat's last 7200 s; renewed 5 minutes early)."""
        with self._lock:
            if not refresh and self._token and self._token[1] > time.monotonic():
                return self._token[0]
            data = self._call(
                "GET",
                "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret},
            )
            token = str(data["access_token"])
            self._token = (token, time.monotonic() + max(60, int(data.get("expires_in", 7200)) - 300))
            return token

    def download_media(self, media_id: str) -> bytes:
        """A user's voice/image by media id (voice notes are AMR)."""
        return self._authed("GET", "/cgi-bin/media/get", params={"media_id": media_id}, raw=True)  # type: ignore[return-value]

    def upload_voice(self, audio: bytes, filename: str = "reply.amr") -> str:
        data = self._authed(
            "POST",
            "/cgi-bin/media/upload",
            params={"type": "voice"},
            files={"media": (filename, audio, "audio/amr")},
        )
        assert isinstance(data, dict)
        return str(data["media_id"])

    def send_text(self, openid: str, text: str) -> None:
        """A customer-service message (only within 48 h of the user's last message)."""
        self._authed(
            "POST",
            "/cgi-bin/message/custom/send",
            json={"touser": openid, "msgtype": "text", "text": {"content": text}},
        )

    def send_voice(self, openid: str, media_id: str) -> None:
        self._authed(
            "POST",
            "/cgi-bin/message/custom/send",
            json={"touser": openid, "msgtype": "voice", "voice": {"media_id": media_id}},
        )

    def send_template(self, openid: str, template_id: str, fields: dict[str, str], url: str = "") -> None:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in fields.items()},
        }
        if url:
            body["url"] = url
        self._authed("POST", "/cgi-bin/message/template/send", json=body)

    def create_menu(self, buttons: list[dict[str, str]]) -> None:
        self._authed("POST", "/cgi-bin/menu/create", json={"button": buttons})

    def _authed(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        raw: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any] | bytes:
        for refresh in (False, True):
            try:
                return self._call(
                    method,
                    path,
                    params={**(params or {}), "access_token": self.access_token(refresh=refresh)},
                    raw=raw,
                    **kwargs,
                )
            except WechatApiError as err:
                if err.code not in TOKEN_ERRORS or refresh:
                    raise
                log.info("access token rejected (%s): refreshing", err.code)
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, *, raw: bool = False, **kwargs: Any) -> Any:
        """One API call with retries on transient failures."""
        last: Exception | None = None
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                resp = self._http.request(method, self.base_url + path, **kwargs)
            except httpx.TransportError as err:
                last = err
                continue
            if resp.status_code >= 500:
                last = ChannelError(f"wechat HTTP {resp.status_code}")
                continue
            is_json = "json" in resp.headers.get("content-type", "") or resp.content[:1] == b"{"
            if raw and not is_json:
                return resp.content
            data = resp.json()
            code = int(data.get("errcode", 0) or 0)
            if code in BUSY_ERRORS:
                last = WechatApiError(code, str(data.get("errmsg", "")))
                continue
            if code:
                raise WechatApiError(code, str(data.get("errmsg", "")))
            return data
        assert last is not None
        raise ChannelError(f"wechat {path} failed after {self.attempts} attempts: {last}") from last


def menu_buttons(menu: tuple[dict[str, str], ...]) -> list[dict[str, str]]:
    """config.yaml's wechat.menu → WeChat's menu/create buttons (click buttons; `url` makes a view button)."""
    buttons = []
    for item in menu:
        if item.get("url"):
            buttons.append({"type": "view", "name": item["name"], "url": item["url"]})
        else:
            buttons.append({"type": "click", "name": item["name"], "key": item["key"]})
    return buttons
