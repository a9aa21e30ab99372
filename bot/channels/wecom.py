"""WeCom (企业微信) application messages: how leaders and grid workers get their tasks when the
community runs a WeCom workspace. Outbound only; staff bind with `python -m bot link wecom:USERID demo:leader1`."""

from __future__ import annotations

import time
from typing import Any

from bot.app import App
from bot.channels.wechat_api import WechatApi
from core.render import OutMessage
from core.settings import WechatSettings
from data.services.outbox import Delivery

CHANNEL = "wecom"


class WecomApi(WechatApi):
    """The same retry/refresh machinery as the Official Account API; a corp token and /message/send."""

    def __init__(self, settings: WechatSettings, **kwargs: Any) -> None:
        super().__init__(settings.wecom_api_base_url, settings.wecom_corp_id, settings.wecom_secret, **kwargs)
        self.agent_id = settings.wecom_agent_id

    def access_token(self, *, refresh: bool = False) -> str:
        with self._lock:
            if not refresh and self._token and self._token[1] > _now():
                return self._token[0]
            data = self._call(
                "GET", "/cgi-bin/gettoken", params={"corpid": self.app_id, "corpsecret": self.app_secret}
            )
            self._token = (
                str(data["access_token"]),
                _now() + max(60, int(data.get("expires_in", 7200)) - 300),
            )
            return self._token[0]

    def send_text(self, openid: str, text: str) -> None:
        """An application text message to one member (touser is the WeCom userid)."""
        self._authed(
            "POST",
            "/cgi-bin/message/send",
            json={"touser": openid, "msgtype": "text", "agentid": self.agent_id, "text": {"content": text}},
        )


def _now() -> float:
    return time.monotonic()


class WecomSender:
    """bot.notify.Sender for the wecom channel: every delivery is an application message."""

    def __init__(self, api: WecomApi) -> None:
        self.api = api

    def deliver(self, external_id: str, message: OutMessage, delivery: Delivery) -> None:
        self.api.send_text(external_id, message.text)


def register(app: App) -> WecomApi:
    api = WecomApi(app.settings.wechat)
    app.add_sender(CHANNEL, WecomSender(api))
    app.shutdown.append(_closer(api))
    return api


def _closer(api: WecomApi) -> Any:
    async def close() -> None:
        api.close()

    return close
