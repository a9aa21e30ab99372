"""The large-print chat page (/chat?token=…): static files, voice upload, spoken replies, pushed
messages as server-sent events. Plain HTML/CSS/JS in bot/channels/static, no build step."""

from __future__ import annotations

import asyncio
import base64
import html
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from bot.app import App
from bot.channels.speech import SpeechBridge, TooLong
from bot.channels.web import (
    BEARER,
    EVENTS_COOKIE,
    authenticate,
    bearer,
    check_msg_id,
    json_body,
    message_id,
    public,
    pushed_after,
)
from bot.guard import Busy
from core.messages import Inbound
from core.render import OutMessage, Part

STATIC = Path(__file__).resolve().parent / "static"
PAGE_STRINGS = (
    "web_title",
    "web_placeholder",
    "web_send",
    "web_hold",
    "web_release",
    "web_listening",
    "web_bad_link",
    "web_offline",
    "web_mic_denied",
    "web_read",
)
AUDIO_TYPES = {
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/mp4": "mp4",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "audio/amr": "amr",
}
EVENT_POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
MAX_STREAM_SECONDS = 300.0  # EventSource reconnects by itself, with Last-Event-ID


PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " media-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
EVENTS_COOKIE_SECONDS = 24 * 3600


def page_html(app: App) -> str:
    """The chat page: its words in a JSON data block (not a script: the CSP allows no inline code)."""
    words: dict[str, Any] = {k: app.strings.text(f"channel.{k}") for k in PAGE_STRINGS}
    words["hello"] = app.strings.text("greet.hello") + app.strings.text("help.intro")
    words["page"] = page_words(app)
    data = json.dumps(words, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    page = (STATIC / "chat.html").read_text(encoding="utf-8")
    return page.replace("__STRINGS__", data).replace("__TITLE__", html.escape(words["web_title"]))


SPEAK_SCHEMA: dict[str, Any] = {
    "security": BEARER,
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "messages": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 20,
                            "items": {
                                "type": "object",
                                "properties": {
                                    "text": {"type": "string", "maxLength": 2000},
                                    "body": {"type": "string"},
                                    "parts": {
                                        "type": "array",
                                        "items": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                            "minItems": 2,
                                            "maxItems": 2,
                                        },
                                    },
                                    "choices": {"type": "array", "items": {"type": "object"}},
                                },
                                "required": ["text"],
                            },
                        }
                    },
                    "required": ["messages"],
                }
            }
        },
    },
}
VOICE_SCHEMA: dict[str, Any] = {
    "security": BEARER,
    "parameters": [{"name": "msg_id", "in": "query", "schema": {"type": "string"}}],
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in AUDIO_TYPES},
    },
}


def mount(api: FastAPI, app: App, speech: SpeechBridge) -> None:
    page = page_html(app)
    api.mount("/static/chat", StaticFiles(directory=STATIC), name="chat-static")
    secure = app.settings.workbench.secure_cookies

    @api.get("/chat", include_in_schema=False)
    async def chat_page() -> HTMLResponse:
        headers = {
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": PAGE_CSP,
        }
        return HTMLResponse(page, headers=headers)

    manifest = json.dumps(web_manifest(app), ensure_ascii=False)

    @api.get("/chat/manifest.webmanifest", include_in_schema=False)
    async def chat_manifest() -> Response:
        """What 「添加到主屏幕」 installs: the name, the large icon, and /chat (the token stays on the phone)."""
        return Response(
            manifest, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"}
        )

    @api.post("/api/voice", openapi_extra=VOICE_SCHEMA)
    async def voice(request: Request) -> JSONResponse:
        """A recorded voice note (raw body) → recognizer → engine; the answer comes back as text and audio."""
        _, channel, external = await authenticate(app, request)  # before the body is read
        msg_id = check_msg_id(request.query_params.get("msg_id"))
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        fmt = AUDIO_TYPES.get(ctype)
        if fmt is None:
            raise HTTPException(415, "send audio/webm, audio/ogg, audio/wav, audio/mpeg or audio/amr")
        data = await request.body()
        if len(data) > app.settings.asr.max_bytes:
            raise HTTPException(413, "audio too large")
        heard = await speech.hear(Inbound(channel, external, msg_id), data, fmt)
        if isinstance(heard, OutMessage):
            messages, text = [heard], ""
        else:
            messages, text = (await app.turn(heard)).messages, heard.text or ""
        audio = await speech.say(messages, "mp3", f"{channel}:{external}")
        return JSONResponse(
            {
                "heard": text,
                "replies": [public(m) for m in messages],
                "audio": base64.b64encode(audio).decode() if audio else None,
            }
        )

    @api.post("/api/speak", openapi_extra=SPEAK_SCHEMA)
    async def speak(request: Request) -> Response:
        """Read replies aloud: {"messages": [{"text", "parts"}]} → audio/mpeg (204 when speech is unavailable)."""
        _, channel, external = await authenticate(app, request)
        body: Any = await json_body(request)
        items = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items or len(items) > 20:
            raise HTTPException(400, "expected {messages: [...]}")
        messages = [_out(m) for m in items]
        try:
            speech.said(messages)
            audio = await speech.speak(messages, "mp3", f"{channel}:{external}")
        except TooLong:
            raise HTTPException(
                413, f"at most {speech.max_chars} characters can be read aloud at once"
            ) from None
        except Busy:
            app.metrics.refused("web", "speak_busy")
            return PlainTextResponse(
                "busy, try again in a moment", status_code=429, headers={"Retry-After": "5"}
            )
        if audio is None:
            return Response(status_code=204)
        return Response(audio, media_type="audio/mpeg")

    @api.post("/api/events/session", openapi_extra={"security": BEARER})
    async def events_session(request: Request) -> Response:
        """Let this page's event stream in: EventSource cannot send a header, so the token travels
        once in a cookie only /api/events receives (HttpOnly, SameSite=Strict), never in a URL."""
        token = bearer(request)
        await authenticate(app, request, token)
        resp = Response(status_code=204)
        resp.set_cookie(
            EVENTS_COOKIE,
            token,
            max_age=EVENTS_COOKIE_SECONDS,
            path="/api/events",
            httponly=True,
            samesite="strict",
            secure=secure or request.url.scheme == "https",
        )
        return resp

    @api.get("/api/events")
    async def events(request: Request) -> StreamingResponse:
        """Pushed messages as server-sent events (one `data:` JSON per message, id = message id).
        Authenticated by the Authorization header, or the cookie /api/events/session sets."""
        cookie = request.cookies.get(EVENTS_COOKIE, "")
        token = cookie if cookie and not request.headers.get("authorization") else None
        if token is not None and len(token) > 256:
            raise HTTPException(401, "invalid token")
        ident_id, _, _ = await authenticate(app, request, token)
        header = request.headers.get("last-event-id")
        last = message_id(
            header if header is not None else request.query_params.get("after"), "Last-Event-ID"
        )
        return StreamingResponse(
            _stream(app, request, ident_id, last),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


async def _stream(app: App, request: Request, ident_id: int, last: int) -> AsyncIterator[str]:
    started = beat = time.monotonic()
    yield "retry: 3000\n\n"
    while time.monotonic() - started < MAX_STREAM_SECONDS:
        if await request.is_disconnected():
            return
        for msg in await asyncio.to_thread(pushed_after, app, ident_id, last):
            last = msg["id"]
            yield f"id: {last}\ndata: {json.dumps(msg, ensure_ascii=False)}\n\n"
        if time.monotonic() - beat > HEARTBEAT_SECONDS:
            beat = time.monotonic()
            yield ": keep-alive\n\n"
        await asyncio.sleep(EVENT_POLL_SECONDS)


PART_KINDS = ("fixed", "digits", "name", "free")


def page_words(app: App) -> dict[str, str]:
    """The page's own screen-only labels (catalog section `web`)."""
    keys = [k for k in app.strings.keys() if k.startswith("web.")]  # noqa: SIM118 - a catalog, not a dict
    return {k.split(".", 1)[1]: app.strings.text(k) for k in keys}


def web_manifest(app: App) -> dict[str, Any]:
    """A web app manifest: opens the signed-in chat full screen (the token is kept in the phone's storage
    by the invitation link, so start_url carries no secret)."""
    name = app.strings.text("channel.web_title")
    icons = [
        {"src": f"/static/chat/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png", "purpose": purpose}
        for n in (192, 512)
        for purpose in ("any", "maskable")
    ]
    return {
        "name": name,
        "short_name": name,
        "description": app.strings.text("web.app_description"),
        "lang": "zh-CN",
        "dir": "ltr",
        "id": "/chat",
        "start_url": "/chat?source=home",
        "scope": "/chat",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": "#0b4f9c",
        "icons": icons,
    }


def _out(raw: Any) -> OutMessage:
    """One message to read aloud, checked field by field (a 400 for anything else)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or len(raw["text"]) > 2000:
        raise HTTPException(400, "bad message")
    body = raw.get("body") or raw["text"]
    parts_in, choices_in = raw.get("parts") or [], raw.get("choices") or []
    if not isinstance(body, str) or not isinstance(parts_in, list) or not isinstance(choices_in, list):
        raise HTTPException(400, "bad message")
    parts = []
    for part in parts_in:
        if not (isinstance(part, list) and len(part) == 2 and all(isinstance(x, str) for x in part)):
            raise HTTPException(400, "parts must be [kind, text] pairs")
        if part[0] in PART_KINDS:
            parts.append(Part(part[0], part[1]))  # type: ignore[arg-type]
    choices = tuple(
        (str(c["digit"]), str(c["label"]))
        for c in choices_in
        if isinstance(c, dict) and isinstance(c.get("digit"), str | int) and isinstance(c.get("label"), str)
    )
    return OutMessage(body, tuple(parts), choices)
