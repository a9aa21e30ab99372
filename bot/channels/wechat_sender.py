"""Outbox deliveries to WeChat: customer-service messages inside the 48 h window, template messages
outside it (and for leaders' tasks when a task template is configured)."""

from __future__ import annotations

from bot.app import App
from bot.channels.wechat_api import WechatApi
from bot.notify import Undeliverable
from core.render import OutMessage
from core.settings import WechatSettings
from data.services.channels import recipient, ticket_number, within_window
from data.services.outbox import Delivery

TASK_KINDS = frozenset(
    {"new_task", "emergency", "urged", "overdue_notice", "callback", "verify", "cluster", "binding"}
)


class WechatSender:
    """bot.notify.Sender for the wechat channel (runs in the dispatcher's worker thread)."""

    def __init__(self, api: WechatApi, app: App, settings: WechatSettings) -> None:
        self.api = api
        self.app = app
        self.settings = settings

    def deliver(self, external_id: str, message: OutMessage, delivery: Delivery) -> None:
        with self.app.db.session() as s:
            rec = recipient(s, delivery.identity_id)
            ticket_no = ticket_number(s, delivery.ticket_id) or str(delivery.params.get("ticket_no", ""))
        if rec is None:
            raise Undeliverable("identity gone")
        template = self._template_for(delivery)
        if template and delivery.kind in TASK_KINDS:
            self._send_template(external_id, template, message, ticket_no)
        elif within_window(rec.last_inbound_at, self.app.clock.now()):
            self.api.send_text(external_id, message.text)
        elif template:
            self._send_template(external_id, template, message, ticket_no)
        else:
            raise Undeliverable("outside the 48 h window and no template message configured")

    def _template_for(self, delivery: Delivery) -> str:
        s = self.settings
        return s.template_id_task if delivery.kind in TASK_KINDS else s.template_id_update

    def _send_template(self, openid: str, template_id: str, message: OutMessage, ticket_no: str) -> None:
        """Template fields: first (title), keyword1 (ticket number), keyword2 (the message), remark."""
        title = self.app.strings.text("channel.template_first")
        self.api.send_template(
            openid,
            template_id,
            {"first": title, "keyword1": ticket_no, "keyword2": message.text, "remark": ""},
        )
