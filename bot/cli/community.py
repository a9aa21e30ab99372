"""The community's figures and its WeChat account."""

from __future__ import annotations

import argparse
import sys

from bot.cli import Command
from core.settings import Settings


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--period", choices=("week", "month"), default="week")
    p.add_argument("--grid")
    p.add_argument("--format", choices=("md", "csv", "html"), default="md")
    p.add_argument("--end", help="end date YYYY-MM-DD (default: now)")


def _report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import service_context
    from data.reports import build_report, format_report

    with service_context(settings) as ctx:
        report = build_report(ctx, args.period, grid_code=args.grid, end=args.end)
    print(format_report(report, args.format))
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


COMMANDS = [
    Command("report", "weekly / monthly figures", _report, _report_args),
    Command(
        "wechat-menu",
        "push the custom menu in config.yaml (wechat.menu) to the Official Account",
        _wechat_menu,
    ),
]
