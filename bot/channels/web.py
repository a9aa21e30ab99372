"""The web channel: JSON chat API authenticated by a bearer token bound to one identity.

The token is checked before a body is read, a wrong one counts against the sender's address, and
malformed bodies are answered 400 with a plain message (never parsed past a sane depth)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from bot.app import App
from core.messages import Inbound
from core.render import OutMessage
from data.models import PushedMessage
from data.services.directory import identity_for_token

MAX_MSG_ID = 128
MAX_TOKEN = 256
MAX_DEPTH = 8  # JSON nesting a chat body may have (ours has 3)
MAX_ID = 2**62  # message ids (`after`, Last-Event-ID) past this are nonsense, not a database error
EVENTS_COOKIE = "lianhu_events"


def bearer(request: Request) -> str:
    """The token from `Authorization: Bearer …` (never from the address: URLs end up in logs)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing token")
    if len(token) > MAX_TOKEN:
        raise HTTPException(401, "invalid token")
    return token


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def identity_of(app: App, token: str) -> tuple[int, str, str]:
    with app.db.session() as s:
        ident = identity_for_token(app.context(s), token)
        if ident is None:
            raise HTTPException(401, "invalid token")
        return ident.id, ident.channel, ident.external_id


async def authenticate(app: App, request: Request, token: str | None = None) -> tuple[int, str, str]:
    """The identity behind the request's token; too many wrong tokens from one address are refused
    (429) before the database is asked, and the first refusal in a window is audited."""
    source = client_of(request)
    if app.guards.bad_tokens.over(source):
        app.metrics.refused("web", "failed_tokens")
        raise HTTPException(429, "too many wrong tokens; try again in a minute")
    try:
        return await asyncio.to_thread(identity_of, app, token if token is not None else bearer(request))
    except HTTPException:
        app.guards.bad_tokens.hit(source)
        if app.guards.bad_tokens.over(source):  # this failure used up the window: audit it once
            source_key = hashlib.sha256(source.encode()).hexdigest()[:12]  # no address in the audit log
            await asyncio.to_thread(app.limited, f"failed tokens from source {source_key}")
        raise


async def json_body(request: Request) -> Any:
    """The request's JSON, or a 400: not JSON, not UTF-8, or nested deeper than a chat body is."""
    try:
        return loads_bounded(await request.body(), MAX_DEPTH)
    except ValueError:
        raise HTTPException(400, "body must be JSON") from None


def loads_bounded(raw: bytes, max_depth: int) -> Any:
    """json.loads, refusing (ValueError) bodies nested deeper than max_depth before parsing them."""
    depth = 0
    for byte in raw:  # brackets inside strings count too: a conservative bound, not a parser
        if byte in b"[{":
            depth += 1
            if depth > max_depth:
                raise ValueError("nested too deep")
        elif byte in b"]}":
            depth -= 1
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("nested too deep") from None


def check_msg_id(msg_id: Any) -> str | None:
    if msg_id is not None and (not isinstance(msg_id, str | int) or len(str(msg_id)) > MAX_MSG_ID):
        raise HTTPException(400, "bad msg_id")
    return None if msg_id is None else str(msg_id)


def message_id(value: Any, name: str) -> int:
    """A message id from a query parameter or header: a whole number, else a 400."""
    text = str(value or "0").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > MAX_ID:
        raise HTTPException(400, f"{name} must be a message id")
    return int(text)


def pushed_after(app: App, identity_id: int, after: int, limit: int = 50) -> list[dict[str, Any]]:
    """Messages the outbox delivered to this identity's inbox, oldest first."""
    with app.db.session() as s:
        rows = s.scalars(
            select(PushedMessage)
            .where(PushedMessage.identity_id == identity_id, PushedMessage.id > after)
            .order_by(PushedMessage.id)
            .limit(max(1, min(limit, 200)))
        )
        return [
            {
                "id": r.id,
                "text": r.text,
                "body": _body(r.text, r.choices),
                "choices": [{"digit": c[0], "label": c[1]} for c in r.choices],
                "ticket_no": r.ticket_no,
                "created_at": r.created_at.isoformat() + "Z",
            }
            for r in rows
        ]


def _body(text: str, choices: list[Any]) -> str:
    """The sentence without the numbered choices the dispatcher appended to it (OutMessage.numbered),
    rebuilt from the stored structured choices, so that a page showing buttons shows each choice once."""
    menu = " ".join(f"{d} {label}" for d, label in choices)
    if menu and text.endswith(" " + menu):
        return text[: -len(menu) - 1]
    return "" if menu and text == menu else text


def public(message: OutMessage) -> dict[str, Any]:
    raw = message.to_json()
    return {
        "text": raw["text"],
        "body": raw["body"],
        "choices": raw["choices"],
        "key": raw["key"],
        "parts": raw["parts"],
    }


BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
CHAT_SCHEMA: dict[str, Any] = {
    "security": BEARER,
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "msg_id": {"type": "string", "maxLength": MAX_MSG_ID},
                        "text": {"type": "string"},
                    },
                    "required": ["text"],
                }
            }
        },
    },
}
MESSAGES_SCHEMA: dict[str, Any] = {
    "security": BEARER,
    "parameters": [
        {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    ],
}


def mount(api: FastAPI, app: App) -> None:
    @api.post("/api/chat", openapi_extra=CHAT_SCHEMA)
    async def chat(request: Request) -> JSONResponse:
        _, channel, external = await authenticate(app, request)  # before the body is read
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("text", ""), str):
            raise HTTPException(400, "expected {msg_id, text}")
        msg_id = check_msg_id(body.get("msg_id"))
        inbound = Inbound(channel=channel, sender_ref=external, msg_id=msg_id, text=body.get("text", ""))
        answer = await app.turn(inbound)
        return JSONResponse({"replies": [public(m) for m in answer.messages], "duplicate": answer.duplicate})

    @api.get("/api/messages", openapi_extra=MESSAGES_SCHEMA)
    async def messages(request: Request) -> JSONResponse:
        ident_id, _, _ = await authenticate(app, request)
        after = message_id(request.query_params.get("after"), "after")
        limit = min(message_id(request.query_params.get("limit") or "50", "limit"), 200)
        return JSONResponse({"messages": await asyncio.to_thread(pushed_after, app, ident_id, after, limit)})
