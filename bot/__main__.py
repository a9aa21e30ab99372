"""Command line: python -m bot serve | chat | token | import | report | dispatch | invite."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Lianhu 联户 assistant")
    parser.add_argument("--config", help="config file (default: config.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="start the server")
    p.add_argument("--demo", action="store_true", help="load the demo community into an empty database")
    p.add_argument("--port", type=int)
    p.add_argument("--host")
    p.add_argument("--workers", type=int, help="server processes (default: server.workers)")
    p = sub.add_parser("chat", help="interactive console on the same engine")
    p.add_argument("--as", dest="identity", default="console:me", help="identity, e.g. demo:resident1")
    p.add_argument("--demo", action="store_true")
    p = sub.add_parser("token", help="issue a web/API token (an invitation link) for an identity")
    p.add_argument("identity")
    p = sub.add_parser("invite", help="an invitation code binding a new channel account to a resident")
    p.add_argument("--phone", required=True, help="the resident's registered phone number")
    p = sub.add_parser(
        "link", help="bind another channel account to the same person, e.g. wecom:zhangsan demo:leader1"
    )
    p.add_argument("account", help="the new account, channel:id")
    p.add_argument("like", help="an existing identity of that person")
    p = sub.add_parser("import", help="load a registry (CSV or XLSX): units, households, residents, leaders")
    p.add_argument("file")
    p = sub.add_parser("report", help="weekly / monthly figures")
    p.add_argument("--period", choices=("week", "month"), default="week")
    p.add_argument("--grid")
    p.add_argument("--format", choices=("md", "csv", "html"), default="md")
    p.add_argument("--end", help="end date YYYY-MM-DD (default: now)")
    p = sub.add_parser("dispatch", help="run an outbox worker (and the scheduler) without the web server")
    p.add_argument("--drain", action="store_true", help="deliver what is due now, then exit")
    sub.add_parser("migrate", help="apply database migrations")
    p = sub.add_parser("phone", help="answer the phone line (SIP on phone.sip_listen; FastAGI with --agi)")
    p.add_argument("--demo", action="store_true")
    p.add_argument("--agi", action="store_true")
    sub.add_parser(
        "wechat-menu", help="push the custom menu in config.yaml (wechat.menu) to the Official Account"
    )
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    from bot.logs import setup_logging

    setup_logging(settings.logging.level, settings.privacy.mask_phone_in_logs)
    return COMMANDS[args.command](settings, args)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses

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
    if args.demo:
        print(
            f"Try it: python -m bot token demo:resident1   then open {server.base_url}/chat?token=…",
            flush=True,
        )
    if server.workers <= 1:
        _serve_worker(app, 0)
        return 0
    from bot.processes import bind, run_workers

    app.db.dispose()  # each worker opens its own connections
    sock = bind(server.host, server.port)
    return run_workers(
        sock, server.workers, lambda i, s: _serve_worker(build_app(settings, migrate=False), i, s)
    )


def _serve_worker(app: Any, index: int, sock: Any = None) -> None:
    """One server process; worker 0 also runs the background jobs and the phone line."""
    import uvicorn

    from bot.server import create_server

    if index == 0 and app.settings.phone.enabled:  # the phone line starts and stops with the server
        from voice.telephony.service import install

        install(app)
    api = create_server(app, workers=index == 0, preload_voice=True, freeze_gc=True)
    server = app.settings.server
    config = uvicorn.Config(api, host=server.host, port=server.port, log_level="warning")
    if sock is None:
        uvicorn.Server(config).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_app, load_demo_if_empty
    from bot.channels.console import run_console

    app = build_app(settings)
    if args.demo:
        load_demo_if_empty(app)
    return run_console(app, args.identity, sys.stdin, sys.stdout)


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import service_context
    from data.services.directory import find_identity, issue_token

    with service_context(settings) as ctx:
        ident = find_identity(ctx, args.identity)
        if ident is None:
            print(f"no such identity: {args.identity}", file=sys.stderr)
            return 2
        token = issue_token(ctx, ident, settings.channels.web_token_days)
    print(token)
    print(f"{settings.server.base_url}/chat?token={token}", file=sys.stderr)
    return 0


def _invite(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import service_context
    from data.registry import create_invitation

    with service_context(settings) as ctx:
        code = create_invitation(ctx, args.phone)
    if code is None:
        print("no resident with that phone number", file=sys.stderr)
        return 2
    print(code)
    return 0


def _link(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import service_context
    from data.services.directory import find_identity, get_or_create_identity, split_ref

    with service_context(settings) as ctx:
        model = find_identity(ctx, args.like)
        if model is None:
            print(f"no such identity: {args.like}", file=sys.stderr)
            return 2
        ident = get_or_create_identity(ctx, *split_ref(args.account))
        ident.resident_id, ident.staff_id = model.resident_id, model.staff_id
    print(f"{args.account} now acts as {args.like}")
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import service_context
    from data.importer import ImportFailed, import_registry

    try:
        with service_context(settings) as ctx:
            summary = import_registry(ctx, Path(args.file))
    except ImportFailed as err:
        for problem in err.problems:
            print(f"line {problem.line}: {problem.reason}", file=sys.stderr)
        print(f"nothing imported: {len(err.problems)} bad row(s)", file=sys.stderr)
        return 1
    print(summary)
    return 0


def _report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import service_context
    from data.reports import build_report, format_report

    with service_context(settings) as ctx:
        report = build_report(ctx, args.period, grid_code=args.grid, end=args.end)
    print(format_report(report, args.format))
    return 0


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio
    import contextlib

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


def _wechat_menu(settings: Settings, args: argparse.Namespace) -> int:
    from bot.channels.wechat_api import WechatApi, menu_buttons

    s = settings.wechat
    if not (s.app_id and s.app_secret):
        print("set LIANHU_WECHAT_APP_ID and LIANHU_WECHAT_APP_SECRET", file=sys.stderr)
        return 2
    api = WechatApi(s.api_base_url, s.app_id, s.app_secret)
    try:
        api.create_menu(menu_buttons(s.menu))
    finally:
        api.close()
    print(f"menu pushed: {len(s.menu)} button(s)")
    return 0


def _phone(settings: Settings, args: argparse.Namespace) -> int:
    from voice.telephony.service import main as phone_main

    return phone_main(settings, demo=args.demo, agi=args.agi)


COMMANDS = {
    "serve": _serve,
    "chat": _chat,
    "token": _token,
    "invite": _invite,
    "link": _link,
    "import": _import,
    "report": _report,
    "dispatch": _dispatch,
    "migrate": _migrate,
    "wechat-menu": _wechat_menu,
}

if __name__ == "__main__":
    raise SystemExit(main())
