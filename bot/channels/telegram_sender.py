"""Outbox deliveries to Telegram, from the dispatcher's thread: plain Bot API calls (httpx), within
the shared flood limits; leaders' tasks carry inline 接单 / 办结 / 上报 buttons."""

from __future__ import annotations

import json

import httpx

from bot.app import App
from bot.channels.flood import FloodLimiter
from bot.channels.telegram import TASK_KINDS, task_buttons
from bot.notify import Undeliverable
from core.errors import ChannelError
from core.render import OutMessage
from core.settings import TelegramSettings
from data.services.channels import ticket_number
from data.services.outbox import Delivery


class TelegramSender:
    def __init__(
        self, app: App, settings: TelegramSettings, limiter: FloodLimiter, timeout: float = 10.0
    ) -> None:
        self.app = app
        self.url = settings.api_base_url.rstrip("/") + settings.token
        self.limiter = limiter
        self._http = httpx.Client(timeout=timeout)

    def deliver(self, external_id: str, message: OutMessage, delivery: Delivery) -> None:
        body: dict[str, object] = {"chat_id": external_id, "text": message.text}
        if delivery.kind in TASK_KINDS:
            with self.app.db.session() as s:
                ticket_no = ticket_number(s, delivery.ticket_id) or str(delivery.params.get("ticket_no", ""))
            if ticket_no:
                body["reply_markup"] = json.dumps(task_buttons(self.app, ticket_no).to_dict())
        self.limiter.wait(external_id)
        resp = self._http.post(f"{self.url}/sendMessage", data=body)
        if resp.status_code == 403:
            raise Undeliverable("the user blocked the bot")
        if resp.status_code != 200 or not resp.json().get("ok"):
            raise ChannelError(f"telegram sendMessage HTTP {resp.status_code}: {resp.text[:200]}")
