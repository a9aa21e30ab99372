"""The web channel: JSON chat API authenticated by a bearer token bound to one identity."""

from __future__ import annotations

import asyncio
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


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        token = request.query_params.get("token", "")
    if not token:
        raise HTTPException(401, "missing token")
    return token.strip()


def identity_of(app: App, token: str) -> tuple[int, str, str]:
    with app.db.session() as s:
        ident = identity_for_token(app.context(s), token)
        if ident is None:
            raise HTTPException(401, "invalid token")
        return ident.id, ident.channel, ident.external_id


def check_msg_id(msg_id: Any) -> str | None:
    if msg_id is not None and (not isinstance(msg_id, str | int) or len(str(msg_id)) > MAX_MSG_ID):
        raise HTTPException(400, "bad msg_id")
    return None if msg_id is None else str(msg_id)


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


def mount(api: FastAPI, app: App) -> None:
    @api.post("/api/chat")
    async def chat(request: Request) -> JSONResponse:
        token = bearer(request)
        try:
            body: Any = await request.json()
        except ValueError:
            raise HTTPException(400, "body must be JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("text", ""), str):
            raise HTTPException(400, "expected {msg_id, text}")
        msg_id = check_msg_id(body.get("msg_id"))
        _, channel, external = await asyncio.to_thread(identity_of, app, token)
        inbound = Inbound(channel=channel, sender_ref=external, msg_id=msg_id, text=body.get("text", ""))
        answer = await app.turn(inbound)
        return JSONResponse({"replies": [public(m) for m in answer.messages], "duplicate": answer.duplicate})

    @api.get("/api/messages")
    async def messages(request: Request, after: int = 0, limit: int = 50) -> JSONResponse:
        token = bearer(request)
        ident_id, _, _ = await asyncio.to_thread(identity_of, app, token)
        return JSONResponse({"messages": await asyncio.to_thread(pushed_after, app, ident_id, after, limit)})
