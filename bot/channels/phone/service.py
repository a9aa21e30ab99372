"""Starting the phone line: `python -m bot phone` on its own, or from the server's start-up hook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.app import App
from core.settings import Settings

log = logging.getLogger("lianhu.phone")


async def start_phone(app: App, *, agi: bool = False, voice: Any = None) -> list[Any]:
    """Load speech once, then listen for SIP calls (and FastAGI when asked); returns what to stop."""
    from bot.channels.phone.hotline import Hotline
    from bot.channels.phone.sip import SipEndpoint

    voice = voice or app.voice or await asyncio.to_thread(app.load_voice, True)
    hotline = Hotline(app, voice)
    app.hotline = hotline
    started: list[Any] = []
    endpoint = SipEndpoint(hotline, app.settings.phone.sip_listen)
    await endpoint.start()
    started.append(endpoint)
    started.append(await start_caller(hotline, endpoint))
    if agi or app.settings.phone.outbound_via == "ami":  # Asterisk hands its notice calls back over AGI
        from bot.channels.phone.agi import AgiServer

        var = app.settings.path(app.settings.paths.var_dir)
        server = AgiServer(hotline, app.settings.phone.agi_listen, var / "agi/sounds", var / "agi/recordings")
        await server.start()
        started.append(server)
    return started


class _Running:
    """A background loop with a stop()."""

    def __init__(self, caller: Any) -> None:
        self.caller = caller
        self.stopping = asyncio.Event()
        self.task = asyncio.ensure_future(caller.run_forever(self.stopping))

    async def stop(self) -> None:
        self.stopping.set()
        await self.task
        await self.caller.stop()


async def start_caller(hotline: Any, endpoint: Any) -> _Running:
    """Notice calls over the same line, or through Asterisk (see bot.channels.phone.outbound)."""
    from bot.channels.phone.ami import AmiOriginator
    from bot.channels.phone.outbound import NoticeCaller

    settings = hotline.app.settings
    originator = None
    if settings.phone.outbound_via == "ami":
        originator = AmiOriginator(settings.phone, settings.notices.call_ring_seconds)
        await originator.start()
    hotline.caller = NoticeCaller(hotline, endpoint, originator)
    return _Running(hotline.caller)


def install(app: App) -> None:
    """Start the line with the server when `phone.enabled` (the app's start-up and shutdown hooks)."""
    if not app.settings.phone.enabled:
        return
    running: list[Any] = []

    async def startup() -> None:
        running.extend(await start_phone(app))

    async def shutdown() -> None:
        for part in reversed(running):
            await part.stop()

    app.startup.append(startup)
    app.shutdown.append(shutdown)


def main(settings: Settings, demo: bool = False, agi: bool = False) -> int:
    """Run the phone line until interrupted: asked for by name, it runs whatever `phone.enabled` says
    (that setting only decides whether `python -m bot serve` starts the line too)."""
    import dataclasses

    from bot.app import build_app, load_demo_if_empty

    if not settings.phone.enabled:
        print("phone.enabled is false in config.yaml: starting the line anyway (python -m bot phone)")
        settings = settings.with_overrides(phone=dataclasses.replace(settings.phone, enabled=True))
    app = build_app(settings)
    if demo:
        load_demo_if_empty(app)

    async def serve() -> None:
        parts = await start_phone(app, agi=agi)
        print(
            f"Lianhu phone line: sip:lianhu@{settings.phone.sip_listen}"
            + (f"  ·  agi://{settings.phone.agi_listen}/lianhu" if agi else ""),
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            for part in reversed(parts):
                await part.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0
