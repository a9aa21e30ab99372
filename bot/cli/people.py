"""Who may talk to Lianhu: tokens, invitations, linked accounts, the registry import."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import Command
from core.settings import Settings


def _token_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("identity")


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


def _invite_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--phone", required=True, help="the registered phone of a resident, role holder or service resource"
    )


def _invite(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.app import service_context
    from data.models import Community
    from data.registry import create_invitation
    from data.services.referrals import ensure_providers

    with service_context(settings) as ctx:
        for community_id in ctx.session.scalars(select(Community.id)):
            ensure_providers(ctx, community_id)  # a resource's account exists before its first referral
        code = create_invitation(ctx, args.phone)
    if code is None:
        print("no resident with that phone number", file=sys.stderr)
        return 2
    print(code)
    return 0


def _link_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("account", help="the new account, channel:id")
    p.add_argument("like", help="an existing identity of that person")


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


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file")


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


def _staff_link(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import service_context
    from data.services.staff_auth import issue_link

    with service_context(settings) as ctx:
        token = issue_link(ctx, settings.workbench, args.identity)
    if token is None:
        print(f"not an active staff identity: {args.identity}", file=sys.stderr)
        return 2
    print(f"{settings.server.base_url}/workbench/link/{token}")
    minutes = settings.workbench.link_minutes
    print(f"one sign-in to the workbench, valid for {minutes:g} minutes", file=sys.stderr)
    return 0


COMMANDS = [
    Command("token", "issue a web/API token (an invitation link) for an identity", _token, _token_args),
    Command(
        "invite", "an invitation code binding a new channel account to a resident", _invite, _invite_args
    ),
    Command(
        "link",
        "bind another channel account to the same person, e.g. wecom:zhangsan demo:leader1",
        _link,
        _link_args,
    ),
    Command(
        "staff-link",
        "a one-time workbench sign-in link for a staff identity, e.g. demo:staff1",
        _staff_link,
        _token_args,
    ),
    Command(
        "import",
        "load a registry (CSV or XLSX): units, households, residents, leaders",
        _import,
        _import_args,
    ),
]
