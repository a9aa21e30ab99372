"""Channel adapters. Each module translates one platform's payloads to Inbound and replies back."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.app import App


def mount_channels(api: FastAPI, app: App) -> None:
    """Add the routes of every enabled channel. The web API is always on (it serves the web page)."""
    from bot.channels import web

    web.mount(api, app)
