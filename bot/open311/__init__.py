"""Open311 GeoReport v2 at /open311/v2/ for city systems (street office, 12345 platforms), and the
signed webhooks that tell integrators about every status change. See docs/open311.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.app import App


def mount(api: FastAPI, app: App) -> None:
    """Add the GeoReport routes to the server."""
    from bot.open311 import routes

    routes.mount(api, app)


def register_sender(app: App) -> None:
    """Deliver queued webhook calls (through the outbox dispatcher)."""
    from bot.open311.webhooks import WebhookSender
    from data.services.webhooks import WEBHOOK_CHANNEL

    app.add_sender(WEBHOOK_CHANNEL, WebhookSender(app.db, app.settings.open311.webhook_timeout_seconds))
