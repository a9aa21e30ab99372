"""Command line: `python -m bot COMMAND`. Each command is declared once (name, help, arguments, what
it runs) in one of this package's modules, so the parser and the dispatch cannot disagree."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import ConfigError
from core.settings import Settings, load_settings


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[Settings, argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def commands() -> list[Command]:
    from bot.cli import community, hearing, integrators, operate, ops, people

    return [
        *operate.COMMANDS,
        *people.COMMANDS,
        *community.COMMANDS,
        *ops.COMMANDS,
        *integrators.COMMANDS,
        *hearing.COMMANDS,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Lianhu 联户 assistant")
    parser.add_argument("--config", help="config file (default: config.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    table = {}
    for command in commands():
        command.arguments(sub.add_parser(command.name, help=command.help))
        table[command.name] = command
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as err:
        print(f"configuration: {err}", file=sys.stderr)
        return 2
    from bot.logs import setup_logging

    setup_logging(settings.logging.level, settings.privacy.mask_phone_in_logs, settings.logging.format)
    return table[args.command].run(settings, args)
