"""The board (看板): open matters, filtered and paged on the server, refreshed live by server-sent
events (the page re-reads its own rows when anything changes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from bot.workbench.web import PREFIX, Workbench, small_int
from data.services.board import BoardFilter, board, last_change

POLL_SECONDS = 2.0
MAX_STREAM_SECONDS = 300.0  # EventSource reconnects by itself
HEARTBEAT_SECONDS = 15.0


def _int(value: str | None) -> int | None:
    return small_int(value)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def read_filter(request: Request) -> BoardFilter:
    q = request.query_params
    return BoardFilter(
        status=q.get("status") or "open",
        tier=_int(q.get("tier")),
        grid_id=_int(q.get("grid")),
        unit_id=_int(q.get("unit")),
        category=q.get("category", "")[:32],
        item=q.get("item", "")[:48],
        emergency=q.get("emergency") == "1",
        overdue=q.get("overdue") == "1",
        date_from=_date(q.get("from")),
        date_to=_date(q.get("to")),
        q=q.get("q", "")[:100],
        page=_int(q.get("page")) or 1,
    )


def mount(api: FastAPI, wb: Workbench) -> None:
    @api.get(f"{PREFIX}/")
    def board_page(request: Request) -> HTMLResponse:
        session = wb.session(request, "board")
        f = read_filter(request)
        with wb.unit() as ctx:
            result = board(ctx, session.actor, f, wb.settings.page_size)
        query = {k: v for k, v in request.query_params.items() if k != "page" and v}
        name = "board_rows.html" if request.headers.get("x-partial") == "1" else "board.html"
        return wb.page(request, name, session, board=result, f=f, query=query, title="看板")

    @api.get(f"{PREFIX}/events")
    async def events(request: Request) -> StreamingResponse:
        """`changed` whenever a matter is filed or changes or an alert goes out (no data: the page
        asks for its own rows again, within what its viewer may see)."""
        await asyncio.to_thread(wb.session, request, "board")
        return StreamingResponse(
            _stream(wb, request),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


async def _stream(wb: Workbench, request: Request) -> AsyncIterator[str]:
    def marker() -> tuple[int, int]:
        with wb.unit() as ctx:
            return last_change(ctx)

    started = beat = time.monotonic()
    last = await asyncio.to_thread(marker)
    yield "retry: 3000\n\n"
    while time.monotonic() - started < MAX_STREAM_SECONDS:
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)
        now = await asyncio.to_thread(marker)
        if now != last:
            last = now
            yield f"event: changed\ndata: {now[0]}-{now[1]}\n\n"
        elif time.monotonic() - beat > HEARTBEAT_SECONDS:
            beat = time.monotonic()
            yield ": keep-alive\n\n"
