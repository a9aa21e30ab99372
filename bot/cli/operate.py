"""Running Lianhu: the server, the console, an outbox worker, migrations, the phone line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli import Command
from core.settings import Settings


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo", action="store_true", help="load the demo community into an empty database")
    p.add_argument("--port", type=int)
    p.add_argument("--host")
    p.add_argument("--workers", type=int, help="server processes (default: server.workers)")


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses

    from bot.processes import share_metrics

    share_metrics(settings)  # before bot.app imports prometheus_client
    from bot.app import build_app, load_demo_if_empty

    server = dataclasses.replace(
        settings.server,
        host=args.host or settings.server.host,
        port=args.port or settings.server.port,
        workers=args.workers or settings.server.workers,
    )
    settings = settings.with_overrides(server=server)
    app = build_app(settings)
    if args.demo:
        load_demo_if_empty(app)
    print(
        f"Lianhu is running at http://{server.host}:{server.port}/  (health: /healthz;"
        f" {server.workers} worker{'s' if server.workers > 1 else ''})",
        flush=True,
    )
    print(f"Community workbench: {server.base_url}/workbench/", flush=True)
    if args.demo:
        from data.demo import DEMO_PASSWORD

        print(
            f"Try it: python -m bot token demo:resident1   then open {server.base_url}/chat?token=…\n"
            f"Workbench demo sign-in (phone / password): staff 08510000001, grid worker 13700000001,"
            f" leader 13900000101 / {DEMO_PASSWORD}",
            flush=True,
        )
    if server.workers <= 1:
        _serve_worker(app, 0)
        return 0
    from bot.processes import bind, run_workers

    app.db.dispose()  # each worker opens its own connections
    sock = bind(server.host, server.port)
    return run_workers(
        sock,
        server.workers,
        # The understanding model loaded above is shared with the workers (copy-on-write), not reloaded.
        lambda i, s: _serve_worker(build_app(settings, migrate=False, parser=app.engine.parser), i, s),
    )


def _serve_worker(app: Any, index: int, sock: Any = None) -> None:
    """One server process; worker 0 also runs the background jobs and the phone line."""
    import uvicorn

    from bot.edge import server_config
    from bot.server import create_server

    if index == 0 and app.settings.phone.enabled:  # the phone line starts and stops with the server
        from bot.channels.phone.service import install

        install(app)
    api = create_server(app, workers=index == 0, preload_voice=True, freeze_gc=True)
    server = app.settings.server
    config = server_config(api, app.settings, host=server.host, port=server.port)
    if sock is None:
        uvicorn.Server(config).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


def _chat_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="identity", default="console:me", help="identity, e.g. demo:resident1")
    p.add_argument("--demo", action="store_true")


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_app, load_demo_if_empty
    from bot.channels.console import run_console

    app = build_app(settings)
    if args.demo:
        load_demo_if_empty(app)
    return run_console(app, args.identity, sys.stdin, sys.stdout)


def _dispatch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--drain", action="store_true", help="deliver what is due now, then exit")


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio
    import contextlib

    from bot.processes import share_metrics

    if not args.drain:
        share_metrics(settings)  # before bot.app imports prometheus_client
    from bot.app import build_dispatcher, service_context
    from data.services.scheduler import run_due

    dispatcher = build_dispatcher(settings)
    if args.drain:
        import time

        t0 = time.perf_counter()
        stats = dispatcher.drain(limit=10_000)
        print(f"sent {stats.sent}, failed {stats.failed} in {time.perf_counter() - t0:.3f}s")
        return 0

    async def schedule(stop: asyncio.Event) -> None:
        while not stop.is_set():

            def once() -> None:
                with service_context(settings) as ctx:
                    run_due(ctx)

            await asyncio.to_thread(once)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.deadlines.scheduler_interval_seconds)

    async def run() -> None:
        stop = asyncio.Event()
        await asyncio.gather(dispatcher.run_forever(stop), schedule(stop))

    asyncio.run(run())
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from data.db import Database

    Database(settings.database.url, root=settings.root).migrate()
    return 0


def _phone_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo", action="store_true")
    p.add_argument("--agi", action="store_true")


def _phone(settings: Settings, args: argparse.Namespace) -> int:
    from bot.processes import share_metrics

    share_metrics(settings)  # before bot.app imports prometheus_client
    from bot.channels.phone.service import main as phone_main

    return phone_main(settings, demo=args.demo, agi=args.agi)


COMMANDS = [
    Command("serve", "start the server", _serve, _serve_args),
    Command("chat", "interactive console on the same engine", _chat, _chat_args),
    Command(
        "dispatch",
        "run an outbox worker (and the scheduler) without the web server",
        _dispatch,
        _dispatch_args,
    ),
    Command("migrate", "apply database migrations", _migrate),
    Command(
        "phone", "answer the phone line (SIP on phone.sip_listen; FastAGI with --agi)", _phone, _phone_args
    ),
]
