"""The ASGI server: health, the channel adapters' routes, and the background workers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bot.app import App
from bot.channels import mount_channels
from bot.edge import Edge
from bot.metrics import mount as mount_metrics

log = logging.getLogger("lianhu.server")


def create_server(
    app: App, *, workers: bool = True, preload_voice: bool = False, freeze_gc: bool = False
) -> FastAPI:
    """A FastAPI application around an App. `workers` runs the outbox dispatcher and scheduler;
    `preload_voice` loads the speech models at start-up (in the background) instead of on first use;
    `freeze_gc` (a long-lived server process) exempts everything loaded at start from full GC passes."""

    @contextlib.asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        if workers:
            tasks.append(asyncio.create_task(app.dispatcher.run_forever(stop)))
            tasks.append(asyncio.create_task(_scheduler(app, stop)))
        if preload_voice and app.voice is None:
            tasks.append(asyncio.create_task(_load_voice(app)))
        if preload_voice:  # the semantic risk check's encoder (about a second), before a resident needs it
            tasks.append(asyncio.create_task(asyncio.to_thread(_warm_understanding)))
        for hook in app.startup:
            await hook()
        # Models and catalogs are loaded and live for the whole process: keep them out of the
        # garbage collector's full passes, which otherwise stall every request now and then.
        if freeze_gc:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            stop.set()
            for hook in app.shutdown:
                await hook()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    docs = app.settings.server.api_docs  # the schema maps every route: off unless configured
    api = FastAPI(
        title="Lianhu",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    api.state.app = app
    api.add_middleware(Edge, settings=app.settings)
    if docs:
        _describe_security(api)

    @api.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True})

    @api.get("/readyz")
    async def readyz() -> JSONResponse:
        def check() -> bool:
            from sqlalchemy import text

            with app.db.session() as s:
                return s.execute(text("select 1")).scalar() == 1

        ok = await asyncio.to_thread(check)
        return JSONResponse({"ok": ok}, status_code=200 if ok else 503)

    mount_channels(api, app)
    mount_metrics(api, app)
    from bot import open311, workbench

    workbench.mount(api, app)
    open311.mount(api, app)
    return api


def _describe_security(api: FastAPI) -> None:
    """The bearer token the web API's operations name under `security`, in the served schema."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = build()
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["bearer"] = {"type": "http", "scheme": "bearer"}
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def _warm_understanding() -> None:
    from nlu.semantic import encoder

    encoder().encode("你好")


async def _load_voice(app: App) -> None:
    try:
        await asyncio.to_thread(app.load_voice, True)
        log.info("speech models loaded")
    except Exception:  # noqa: BLE001 - text channels keep working; voice notes get a "please type" reply
        log.exception("speech models could not be loaded")


def purge_recordings(app: App) -> int:
    """Delete voice recordings older than privacy.recording_retention_days (wall-clock file ages)."""
    from voice.recordings import purge

    folder = app.settings.path(app.settings.paths.recordings)
    return len(purge(folder, app.settings.privacy.recording_retention_days, datetime.now()))


async def _scheduler(app: App, stop: asyncio.Event) -> None:
    interval = app.settings.deadlines.scheduler_interval_seconds
    last_purge = 0.0
    while not stop.is_set():
        if time.monotonic() - last_purge > 3600:
            last_purge = time.monotonic()
            with contextlib.suppress(OSError):
                removed = await asyncio.to_thread(purge_recordings, app)
                if removed:
                    log.info("deleted %d recordings past their retention", removed)
        try:
            report = await asyncio.to_thread(app.run_scheduler_once)
            if report.escalated or report.realerted or report.closed_unrated:
                log.info(
                    "scheduler: escalated=%d realerted=%d closed=%d",
                    len(report.escalated),
                    len(report.realerted),
                    len(report.closed_unrated),
                )
        except Exception:  # noqa: BLE001 - keep running; the next pass retries
            log.exception("scheduler pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
