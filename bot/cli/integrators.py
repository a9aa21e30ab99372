"""Open311 integrators: `python -m bot api-key create|revoke|list|webhook`."""

from __future__ import annotations

import argparse
import sys

from bot.cli import Command
from core.settings import Settings


def _args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="a new key (printed once; only its hash is kept)")
    create.add_argument("name", help="who uses it, e.g. 街道12345平台")
    create.add_argument(
        "--scope",
        action="append",
        choices=("read", "write", "private"),
        default=[],
        help="read (default), write (post requests, register a webhook), private (names and rooms); repeatable",
    )
    create.add_argument(
        "--rate", type=int, default=None, help="calls a minute (default open311.rate_per_minute)"
    )
    revoke = sub.add_parser("revoke", help="stop a key at once")
    revoke.add_argument("key", help="the key's id or its listed prefix")
    sub.add_parser("list", help="keys, scopes, budgets, last use, webhooks")
    hook = sub.add_parser(
        "webhook", help="set (or with no URL remove) a key's webhook; prints the signing secret"
    )
    hook.add_argument("key", help="the key's id or its listed prefix")
    hook.add_argument("url", nargs="?", default="")


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import service_context
    from data.services import integrators

    with service_context(settings) as ctx:
        if args.action == "create":
            rate = args.rate if args.rate is not None else settings.open311.rate_per_minute
            key, info = integrators.create_key(ctx, args.name, tuple(args.scope), rate)
            print(key)
            print(
                f"key {info.id} ({info.prefix}) scopes {','.join(info.scopes)}, {rate} calls a minute",
                file=sys.stderr,
            )
            return 0
        if args.action == "list":
            for k in integrators.list_keys(ctx):
                state = "revoked" if k.revoked else "active"
                used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "never"
                print(
                    f"{k.id}\t{k.prefix}\t{k.name}\t{','.join(k.scopes)}\t{k.rate_per_minute}/min\t"
                    f"{state}\tlast used {used}\twebhook {k.webhook_url or '-'}"
                )
            return 0
        if args.action == "revoke":
            gone = integrators.revoke_key(ctx, args.key)
            if gone is None:
                print(f"no such key: {args.key}", file=sys.stderr)
                return 2
            print(f"key {gone.id} ({gone.prefix}) revoked")
            return 0
        found = next((k for k in integrators.list_keys(ctx) if args.key in (str(k.id), k.prefix)), None)
        if found is None or found.revoked:
            print(f"no such active key: {args.key}", file=sys.stderr)
            return 2
        try:
            secret = integrators.set_webhook(ctx, found, args.url or None)
        except ValueError as err:
            print(str(err), file=sys.stderr)
            return 2
        print(secret or f"webhook of key {found.id} removed")
        return 0


COMMANDS = [Command("api-key", "Open311 integrators' API keys and webhooks", _run, _args)]
