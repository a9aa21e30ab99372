"""Telegram (python-telegram-bot v22): polling or webhook; text, voice notes, /start CODE, big
reply-keyboard buttons, and leaders' inline task buttons that drive the typed leader commands."""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app import App
from bot.channels import GREETING
from bot.channels.flood import FloodLimiter, PtbFloodLimiter
from bot.channels.speech import SpeechBridge
from bot.channels.web import loads_bounded
from bot.commands import OPS
from bot.engine import Answer
from core.conversation import State
from core.messages import Inbound
from core.render import OutMessage
from core.settings import TelegramSettings
from handlers.menus import main_menu

log = logging.getLogger("lianhu.telegram")
MAX_UPDATE_DEPTH = 16  # an update nests a few levels (message → chat, reply_markup → rows → buttons)
CHANNEL = "telegram"
BUTTON = re.compile(r"^【(\d{1,2})】")  # reply-keyboard buttons carry their digit: 【1】对
TASK_OPS = ("accept", "resolve", "escalate")
TASK_KINDS = frozenset({"new_task", "emergency", "urged", "overdue_notice"})


def button_text(digit: str, label: str) -> str:
    return f"【{digit}】{label}"


def command_word(op: str) -> str:
    """The typed command a button stands for (接单 / 办结 / 上报), from bot.commands."""
    return next(word for word, value in OPS.items() if value == op)


def task_buttons(app: App, ticket_no: str) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(app.strings.text(f"channel.button_{op}"), callback_data=f"{op}:{ticket_no}")
        for op in TASK_OPS
    ]
    return InlineKeyboardMarkup([row])


def as_text(messages: list[OutMessage]) -> str:
    """The replies as one text; the last one's choices are left to the keyboard's buttons."""
    return "\n".join(
        m.body if i == len(messages) - 1 and m.choices else m.text for i, m in enumerate(messages)
    )


class TelegramAdapter:
    def __init__(self, app: App, speech: SpeechBridge) -> None:
        self.app = app
        self.speech = speech

    def keyboard(
        self, answer: Answer, messages: list[OutMessage]
    ) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
        """Numbered big buttons for the question asked; the main menu when the conversation is idle."""
        choices = messages[-1].choices if messages else ()
        if not choices and (answer.state or State.IDLE) == State.IDLE and answer.actor is not None:
            menu = main_menu(answer.actor)
            choices = tuple((c.digit, self.app.engine.renderer.label(c)) for c in menu if c.digit != "0")
        if not choices:
            return ReplyKeyboardRemove()
        rows = [[KeyboardButton(button_text(d, label))] for d, label in choices]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=False, is_persistent=True)

    async def turn(self, inbound: Inbound) -> Answer:
        return await self.app.turn(inbound)

    async def reply(self, update: Update, answer: Answer) -> None:
        message = update.effective_message
        if message is None or not answer.messages:
            return
        await message.reply_text(
            as_text(answer.messages), reply_markup=self.keyboard(answer, answer.messages)
        )
        if answer.spoken:
            audio = await self.speech.say(answer.messages, "ogg", f"telegram:{message.chat_id}")
            if audio:
                await message.reply_voice(audio)

    def inbound(self, update: Update, text: str, msg_id: str) -> Inbound:
        chat = update.effective_chat
        assert chat is not None
        return Inbound(CHANNEL, str(chat.id), msg_id, text)

    async def on_text(self, update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        if msg is None or msg.text is None:
            return
        text = msg.text
        m = BUTTON.match(text)
        if m:
            text = m.group(1)
        await self.reply(update, await self.turn(self.inbound(update, text, f"m{msg.message_id}")))

    async def on_start(self, update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        """/start CODE binds with an invitation code (deep link t.me/<bot>?start=CODE)."""
        msg = update.effective_message
        if msg is None:
            return
        code = (ctx.args or [""])[0].strip()
        await self.reply(
            update, await self.turn(self.inbound(update, code or GREETING, f"m{msg.message_id}"))
        )

    async def on_voice(self, update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        if msg is None or (msg.voice is None and msg.audio is None):
            return
        media = msg.voice or msg.audio
        assert media is not None
        if (media.file_size or 0) > self.app.settings.asr.max_bytes:
            await msg.reply_text(self.app.strings.text("error.audio_too_long"))
            return
        data = bytes(await (await media.get_file()).download_as_bytearray())
        heard = await self.speech.hear(self.inbound(update, "", f"m{msg.message_id}"), data, "ogg")
        if isinstance(heard, OutMessage):
            await msg.reply_text(heard.text)
            return
        await self.reply(update, await self.turn(heard))

    async def on_button(self, update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        """A leader's inline task button: 接单 / 办结 / 上报 → the same typed leader command."""
        query = update.callback_query
        if query is None:
            return
        op, _, ticket_no = (query.data or "").partition(":")
        if op not in TASK_OPS or not ticket_no.isalnum():
            await query.answer()
            return
        answer = await self.turn(self.inbound(update, f"{command_word(op)} {ticket_no}", f"cb{query.id}"))
        await query.answer(answer.messages[0].text[:190] if answer.messages else None)
        await self.reply(update, answer)

    async def on_error(self, update: object, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %s", type(ctx.error).__name__, exc_info=ctx.error)
        if isinstance(update, Update) and update.effective_message is not None:
            try:
                await update.effective_message.reply_text(self.app.strings.text("error.internal"))
            except Exception:  # noqa: BLE001 - nothing more to do for this update
                log.warning("could not tell the user about the failure")


def file_url(api_base_url: str) -> str:
    """https://api.telegram.org/bot → https://api.telegram.org/file/bot"""
    base = api_base_url.rstrip("/")
    head, _, last = base.rpartition("/")
    return f"{head}/file/{last}"


def build_application(
    app: App, s: TelegramSettings, speech: SpeechBridge, limiter: FloodLimiter
) -> Application:  # type: ignore[type-arg]
    builder = (
        ApplicationBuilder().token(s.token).base_url(s.api_base_url).base_file_url(file_url(s.api_base_url))
    )
    builder = builder.rate_limiter(PtbFloodLimiter(limiter))  # type: ignore[arg-type]  # PTB types it for None args
    if s.mode == "webhook":
        builder = builder.updater(None)
    application = builder.build()
    adapter = TelegramAdapter(app, speech)
    application.add_handler(CommandHandler("start", adapter.on_start))
    application.add_handler(CallbackQueryHandler(adapter.on_button))
    application.add_handler(MessageHandler(filters.VOICE | filters.AUDIO, adapter.on_voice))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, adapter.on_text))
    application.add_error_handler(adapter.on_error)
    return application


class MalformedUpdate(ValueError):
    """A webhook body that is not a Telegram update (answered 400)."""


def read_update(raw: bytes, bot: Any) -> Update:
    """A Telegram Update from a webhook body, or MalformedUpdate (never anything else)."""
    try:
        data = loads_bounded(raw, MAX_UPDATE_DEPTH)
    except ValueError:
        raise MalformedUpdate("not JSON") from None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        raise MalformedUpdate("no update_id")
    try:
        update = Update.de_json(data, bot)
    except Exception as err:  # noqa: BLE001 - python-telegram-bot raises many kinds on odd fields
        raise MalformedUpdate(type(err).__name__) from None
    if update is None:
        raise MalformedUpdate("empty")
    return update


def mount(api: FastAPI, app: App, speech: SpeechBridge) -> Application:  # type: ignore[type-arg]
    """Run the bot inside the server (polling task or webhook route) and register the outbox sender."""
    from bot.channels.telegram_sender import TelegramSender

    s = app.settings.telegram
    limiter = FloodLimiter(s.per_chat_rate, s.global_rate)
    application = build_application(app, s, speech, limiter)
    app.add_sender(CHANNEL, TelegramSender(app, s, limiter))
    app.telegram = application

    async def start() -> None:
        await application.initialize()
        await application.start()
        if s.mode == "webhook":
            url = app.settings.server.base_url.rstrip("/") + s.webhook_path
            await application.bot.set_webhook(
                url, secret_token=s.webhook_secret or None, allowed_updates=["message", "callback_query"]
            )
        elif application.updater is not None:
            await application.updater.start_polling(allowed_updates=["message", "callback_query"])

    async def stop() -> None:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    app.startup.append(start)
    app.shutdown.append(stop)
    if s.mode == "webhook":
        if not s.webhook_secret:
            log.warning(
                "telegram: webhook mode without LIANHU_TELEGRAM_WEBHOOK_SECRET: every update is refused"
            )

        @api.post(s.webhook_path, include_in_schema=False)
        async def webhook(request: Request) -> JSONResponse:
            given = request.headers.get("x-telegram-bot-api-secret-token", "")
            if not s.webhook_secret or not hmac.compare_digest(given.encode(), s.webhook_secret.encode()):
                return JSONResponse({"ok": False}, status_code=403)
            try:
                update = read_update(await request.body(), application.bot)
            except MalformedUpdate as err:
                log.warning("telegram: malformed update (%s)", err)
                return JSONResponse({"ok": False, "error": "malformed update"}, status_code=400)
            await application.update_queue.put(update)
            return JSONResponse({"ok": True})

    return application
