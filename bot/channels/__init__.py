"""Channel adapters. Each module translates one platform's payloads to Inbound and replies back."""

from __future__ import annotations

from typing import TYPE_CHECKING

GREETING = "你好"  # what a new follower / a bare /start says to the engine (an input, not a reply)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.app import App


def mount_channels(api: FastAPI, app: App) -> None:
    """Add the routes of every enabled channel. The web API and page are always on; WeChat and
    Telegram switch on when their tokens are set (LIANHU_WECHAT_TOKEN, LIANHU_TELEGRAM_TOKEN)."""
    from bot.channels import web, web_page
    from bot.channels.speech import SpeechBridge

    speech = app.speech or SpeechBridge(app)
    app.speech = speech
    web.mount(api, app)
    web_page.mount(api, app, speech)
    if app.settings.wechat.token:
        from bot.channels import wechat

        wechat.mount(api, app, speech)
    if app.settings.wechat.wecom_enabled and app.settings.wechat.wecom_secret:
        from bot.channels import wecom

        wecom.register(app)
    if app.settings.telegram.token:
        from bot.channels import telegram

        telegram.mount(api, app, speech)


def register_senders(app: App) -> None:
    """The outbox senders of the configured remote channels, without their routes: a dispatch process
    delivers to WeChat, WeCom and Telegram like the server's worker 0 does."""
    s = app.settings
    if s.wechat.token:
        from bot.channels.wechat_api import WechatApi
        from bot.channels.wechat_sender import WechatSender

        w = s.wechat
        app.add_sender("wechat", WechatSender(WechatApi(w.api_base_url, w.app_id, w.app_secret), app, w))
    if s.wechat.wecom_enabled and s.wechat.wecom_secret:
        from bot.channels import wecom

        wecom.register(app)
    if s.telegram.token:
        from bot.channels.flood import FloodLimiter
        from bot.channels.telegram_sender import TelegramSender

        t = s.telegram
        app.add_sender("telegram", TelegramSender(app, t, FloodLimiter(t.per_chat_rate, t.global_rate)))
