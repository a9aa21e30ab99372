"""The large-print chat page (/chat?token=…): static files, voice upload, spoken replies, pushed
messages as server-sent events. Plain HTML/CSS/JS in bot/channels/static, no build step."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from bot.app import App
from bot.channels.speech import SpeechBridge
from bot.channels.web import bearer, check_msg_id, identity_of, public, pushed_after
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


def mount(api: FastAPI, app: App, speech: SpeechBridge) -> None:
    words: dict[str, Any] = {k: app.strings.text(f"channel.{k}") for k in PAGE_STRINGS}
    words["hello"] = app.strings.text("greet.hello") + app.strings.text("help.intro")
    words["page"] = page_words(app)
    page = (STATIC / "chat.html").read_text(encoding="utf-8")
    page = page.replace("__STRINGS__", json.dumps(words, ensure_ascii=False)).replace(
        "__TITLE__", words["web_title"]
    )
    api.mount("/static/chat", StaticFiles(directory=STATIC), name="chat-static")

    @api.get("/chat")
    async def chat_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    manifest = json.dumps(web_manifest(app), ensure_ascii=False)

    @api.get("/chat/manifest.webmanifest")
    async def chat_manifest() -> Response:
        """What 「添加到主屏幕」 installs: the name, the large icon, and /chat (the token stays on the phone)."""
        return Response(
            manifest, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"}
        )

    @api.post("/api/voice")
    async def voice(request: Request) -> JSONResponse:
        """A recorded voice note (raw body) → recognizer → engine; the answer comes back as text and audio."""
        token = bearer(request)
        msg_id = check_msg_id(request.query_params.get("msg_id"))
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        fmt = AUDIO_TYPES.get(ctype)
        if fmt is None:
            raise HTTPException(415, "send audio/webm, audio/ogg, audio/wav, audio/mpeg or audio/amr")
        data = await request.body()
        if len(data) > app.settings.asr.max_bytes:
            raise HTTPException(413, "audio too large")
        _, channel, external = await asyncio.to_thread(identity_of, app, token)
        heard = await speech.hear(Inbound(channel, external, msg_id), data, fmt)
        if isinstance(heard, OutMessage):
            messages, text = [heard], ""
        else:
            messages, text = (await app.turn(heard)).messages, heard.text or ""
        audio = await speech.speak(messages, "mp3")
        return JSONResponse(
            {
                "heard": text,
                "replies": [public(m) for m in messages],
                "audio": base64.b64encode(audio).decode() if audio else None,
            }
        )

    @api.post("/api/speak")
    async def speak(request: Request) -> Response:
        """Read replies aloud: {"messages": [{"text", "parts"}]} → audio/mpeg (204 when speech is unavailable)."""
        token = bearer(request)
        await asyncio.to_thread(identity_of, app, token)
        body: Any = await request.json()
        items = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items or len(items) > 20:
            raise HTTPException(400, "expected {messages: [...]}")
        messages = [_out(m) for m in items]
        audio = await speech.speak(messages, "mp3")
        if audio is None:
            return Response(status_code=204)
        return Response(audio, media_type="audio/mpeg")

    @api.get("/api/events")
    async def events(request: Request, after: int = 0) -> StreamingResponse:
        """Pushed messages as server-sent events (one `data:` JSON per message, id = message id)."""
        token = bearer(request)
        ident_id, _, _ = await asyncio.to_thread(identity_of, app, token)
        last = int(request.headers.get("last-event-id") or after or 0)
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
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or len(raw["text"]) > 2000:
        raise HTTPException(400, "bad message")
    parts = tuple(Part(k, t) for k, t in raw.get("parts") or [] if k in ("fixed", "digits", "name", "free"))
    choices = tuple(
        (str(c["digit"]), str(c["label"]))
        for c in raw.get("choices") or []
        if isinstance(c, dict) and "digit" in c and "label" in c
    )
    return OutMessage(raw.get("body") or raw["text"], parts, choices)
