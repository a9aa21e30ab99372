"""The server's edge, before any route runs: body limits per route (checked before a byte of the
body is read, and again while it arrives), slow bodies cut off, security headers on every answer,
and one log line (no request text) instead of a traceback for whatever a route failed to handle.
Also the uvicorn settings that bound connections: how many, and how long headers may take."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from core.settings import Settings

log = logging.getLogger("lianhu.server")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
# Answers that are not pages (JSON, audio, XML): nothing may run or be framed.
DEFAULT_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


class Refused(Exception):  # noqa: N818 - an answer, raised from inside receive()
    def __init__(self, status: int, text: str) -> None:
        self.status, self.text = status, text


def body_limits(settings: Settings) -> list[tuple[str, int]]:
    """(path prefix, bytes) pairs, the longest prefix first; anything else gets limits.body_bytes."""
    lim = settings.limits
    routes = [
        ("/api/voice", settings.asr.max_bytes),
        ("/api/", lim.chat_body_bytes),
        ("/wechat", lim.webhook_body_bytes),
        (settings.telegram.webhook_path, lim.webhook_body_bytes),
        ("/workbench/registry/import", lim.upload_body_bytes),
    ]
    return sorted(routes, key=lambda r: -len(r[0]))


class Edge:
    """ASGI middleware (inside Starlette's error middleware, outside every route)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.routes = body_limits(settings)
        self.default = settings.limits.body_bytes
        self.idle = settings.limits.body_idle_seconds

    def limit_for(self, path: str) -> int:
        return next((size for prefix, size in self.routes if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        length = _header(scope, b"content-length")
        number = length is not None and length.isascii() and length.isdigit()  # not "²"
        if length is not None and (not number or int(length) > limit):
            await _plain(send, 413 if number else 400, f"body over {limit} bytes")
            return
        started = False
        received = 0
        deadline = time.monotonic() + 6 * self.idle  # a trickle of bytes does not hold forever either

        body_done = False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # later calls wait for the client to go away (streams): no deadline
                return await receive()
            timeout = min(self.idle, max(0.0, deadline - time.monotonic()))
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                raise Refused(408, "request body too slow") from None
            received += len(message.get("body", b""))
            if received > limit:
                raise Refused(413, f"body over {limit} bytes")
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers") or [])
                have = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in have]
                if b"content-security-policy" not in have:
                    headers.append((b"content-security-policy", DEFAULT_CSP))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Refused as err:
            if not started:
                await _plain(send, err.status, err.text)
        except Exception as err:  # noqa: BLE001 - one line, no request text; never a traceback
            if _disconnected(err):
                return
            log.error(
                "%s %s failed: %s at %s", scope.get("method"), scope["path"], type(err).__name__, _where(err)
            )
            if not started:
                await _plain(send, 500, "server error")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None


def _disconnected(err: BaseException) -> bool:
    from starlette.requests import ClientDisconnect

    if isinstance(err, BaseExceptionGroup):
        return all(_disconnected(e) for e in err.exceptions)
    return isinstance(err, ClientDisconnect | ConnectionError)


def _where(err: BaseException) -> str:
    """The innermost frame in Lianhu's own code (file:line), for the operator; never the message."""
    frames = traceback.extract_tb(err.__traceback__)
    ours = [f for f in frames if "site-packages" not in f.filename] or frames
    return f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    headers += list(SECURITY_HEADERS) + [(b"content-security-policy", DEFAULT_CSP)]
    if status in (408, 413):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def server_config(api: Any, settings: Settings, **kwargs: Any) -> Any:
    """uvicorn.Config for the app with the connection limits of `limits`."""
    import uvicorn

    lim = settings.limits
    kwargs.setdefault("log_level", "warning")
    return uvicorn.Config(
        api,
        http=header_timeout_protocol(lim.header_timeout_seconds),
        limit_concurrency=lim.max_connections,
        timeout_keep_alive=int(max(1, lim.keepalive_seconds)),
        backlog=2048,
        **kwargs,
    )


def header_timeout_protocol(seconds: float) -> type:
    """uvicorn's HTTP protocol, closing connections whose request headers take longer than `seconds`
    (uvicorn itself only times out idle keep-alive connections, not a slow or silent client)."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        _headers_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._headers_timer is None:
                self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._headers_timer = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._headers_timer is not None:
                self._headers_timer.cancel()
                self._headers_timer = None

        def _too_slow(self) -> None:
            self._headers_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeaderTimeoutProtocol
