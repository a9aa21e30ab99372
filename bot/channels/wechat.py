"""WeChat Official Account webhook (/wechat): verify → parse → Inbound → engine → passive reply.

WeChat waits 5 s for an answer and re-posts up to three times. Deliveries are deduplicated (MsgId,
events by FromUserName + CreateTime) by the engine, and in-flight repeats wait for the first one.
When the engine needs longer than `reply_timeout_seconds`, the webhook answers `success` and the
reply follows through the outbox as a customer-service message (see wechat_sender).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from bot.app import App
from bot.channels import GREETING
from bot.channels.speech import SpeechBridge
from bot.channels.wechat_api import WechatApi
from bot.channels.wechat_xml import MalformedMessage, read_message, text_reply
from core.messages import Inbound, Reply
from core.render import OutMessage
from core.settings import WechatSettings
from data.services.channels import enqueue_late_reply, late_reply_queued
from data.services.seen import first_use

log = logging.getLogger("lianhu.wechat")
CHANNEL = "wechat"
SUCCESS = "success"
LATE_MARGIN = 0.5  # seconds kept for sending the passive reply back
MAX_BODY = 64 * 1024


class WechatAdapter:
    def __init__(self, app: App, settings: WechatSettings, api: WechatApi, speech: SpeechBridge) -> None:
        self.app = app
        self.settings = settings
        self.api = api
        self.speech = speech
        self.crypto = (
            WeChatCrypto(settings.token, settings.aes_key, settings.app_id) if settings.aes_key else None
        )
        self.menu = {m.get("key", ""): m.get("say") or m.get("name", "") for m in settings.menu}
        self._inflight: dict[tuple[str, str], asyncio.Task[list[OutMessage] | None]] = {}
        self._late: set[tuple[str, str]] = set()
        self._background: set[asyncio.Task[Any]] = set()

    def fresh(self, request: Request) -> str | None:
        """Why a signed request is refused before its signature is even checked, or None."""
        q = request.query_params
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        if not timestamp or not nonce or not q.get("signature"):
            return "missing timestamp, nonce or signature"
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12 or len(nonce) > 64:
            return "malformed timestamp or nonce"
        skew = abs(time.time() - int(timestamp))  # the wall clock: WeChat signs with real time
        if skew > self.settings.freshness_seconds:
            return "stale timestamp"
        return None

    def _refuse(self, request: Request, why: str) -> Response:
        self.app.metrics.refused("wechat", why.split()[0])
        log.warning("wechat: refused (%s) from %s", why, request.client.host if request.client else "?")
        return PlainTextResponse("forbidden", status_code=403)

    async def verify(self, request: Request) -> Response:
        """URL verification: echo `echostr` when the request is fresh and its signature is right."""
        q = request.query_params
        why = self.fresh(request)
        if why is not None:
            return self._refuse(request, why)
        try:
            check_signature(self.settings.token, q["signature"], q["timestamp"], q["nonce"])
        except InvalidSignatureException:
            return self._refuse(request, "bad signature")
        return PlainTextResponse(q.get("echostr", ""))

    async def receive(self, request: Request) -> Response:
        q = request.query_params
        why = self.fresh(request)
        if why is not None:
            return self._refuse(request, why)
        timestamp, nonce = q["timestamp"], q["nonce"]
        try:
            check_signature(self.settings.token, q["signature"], timestamp, nonce)
        except InvalidSignatureException:
            return self._refuse(request, "bad signature")
        safe = q.get("encrypt_type") == "aes"
        if self.crypto is not None and not safe:
            return self._refuse(request, "plain message while safe mode is configured")
        if safe and self.crypto is None:
            return self._refuse(request, "encrypted message without an AES key")
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("too large", status_code=413)
        if not await asyncio.to_thread(self._first_use, f"wechat:{timestamp}:{nonce}", body):
            return self._refuse(request, "replayed timestamp and nonce")
        try:
            xml = body.decode("utf-8")
            if safe and self.crypto is not None:
                xml = self.crypto.decrypt_message(xml, q.get("msg_signature", ""), timestamp, nonce)
        except (InvalidSignatureException, InvalidAppIdException):
            return self._refuse(request, "bad message signature")
        except Exception:  # noqa: BLE001 - undecodable bytes or ciphertext: malformed, not a crash
            log.warning("wechat: undecodable body")
            return PlainTextResponse("bad message", status_code=400)
        try:
            message, received = read_message(xml)
        except MalformedMessage as err:
            log.warning("wechat: malformed message (%s)", err)
            return PlainTextResponse("bad message", status_code=400)
        text = await self.handle(message, received)
        if text is None:
            return PlainTextResponse(SUCCESS)
        reply = text_reply(str(message.source), str(message.target or ""), text)
        if safe and self.crypto is not None:
            reply = self.crypto.encrypt_message(reply, nonce, timestamp)
        return Response(reply, media_type="application/xml")

    def _first_use(self, key: str, body: bytes) -> bool:
        digest = hashlib.sha256(body).hexdigest()
        with self.app.db.session() as s:
            # Kept for both sides of the window: a timestamp up to `freshness` ahead stays fresh that long.
            return first_use(self.app.context(s), key, digest, 2 * self.settings.freshness_seconds + 60)

    async def handle(self, message: Any, received: datetime) -> str | None:
        """The passive reply's text, or None to answer `success` (nothing now, or later via the outbox)."""
        openid = str(message.source)
        if message.type == "event":
            event = str(getattr(message, "event", "")).lower()
            msg_id: str | None = f"ev{int(received.replace(tzinfo=UTC).timestamp())}"
            if event == "unsubscribe":
                return None
            if event in ("subscribe", "subscribe_scan", "scan"):
                scene = str(getattr(message, "scene_id", "") or "").removeprefix("qrscene_")
                inbound = Inbound(CHANNEL, openid, msg_id, scene or GREETING, received_at=received)
            elif event == "click":
                inbound = Inbound(
                    CHANNEL, openid, msg_id, self.menu.get(str(message.key), ""), received_at=received
                )
            else:
                return None
        else:
            msg_id = str(message.id) if message.id else None
            inbound = Inbound(CHANNEL, openid, msg_id, received_at=received)
            if message.type == "text":
                inbound = Inbound(CHANNEL, openid, msg_id, str(message.content or ""), received_at=received)
            elif message.type == "location":
                inbound = Inbound(CHANNEL, openid, msg_id, str(message.label or ""), received_at=received)
            elif message.type != "voice":
                return None
        return await self.answer(inbound, voice=message if message.type == "voice" else None)

    async def answer(self, inbound: Inbound, voice: Any = None) -> str | None:
        key = (inbound.sender_ref, inbound.msg_id or "")
        if key in self._late:
            return None
        task = self._inflight.get(key)
        if task is None:
            # Past this moment the engine queues its answer in the outbox within the turn's own
            # transaction, so a late answer is never lost; the margin covers the way back to WeChat.
            late_after = time.monotonic() + max(0.5, self.settings.reply_timeout_seconds - LATE_MARGIN)
            task = asyncio.ensure_future(self._turn(inbound, voice, late_after))
            self._inflight[key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(key, None))
        try:
            messages = await asyncio.wait_for(asyncio.shield(task), self.settings.reply_timeout_seconds)
        except TimeoutError:
            if key not in self._late:
                self._late.add(key)
                task.add_done_callback(lambda t: self._spawn(self._deliver_late(key, t)))
            return None
        if messages is None:
            return None
        return "\n".join(m.text for m in messages) or None

    async def _turn(self, inbound: Inbound, voice: Any, late_after: float) -> list[OutMessage] | None:
        if voice is not None:
            heard = await self._hear(inbound, voice)
            if isinstance(heard, OutMessage):
                return [heard]
            inbound = heard
        answer = await self.app.turn(inbound, late_after=late_after)
        if answer.queued_late:
            return None  # already in the outbox: answer `success` now
        if answer.duplicate:
            queued = await asyncio.to_thread(self._late_queued, inbound)
            if queued:
                return None  # the first delivery's answer went out later, through the outbox
        if inbound.spoken and answer.messages:
            self._spawn(self._send_voice(inbound.sender_ref, answer.messages))
        return answer.messages

    async def _hear(self, inbound: Inbound, voice: Any) -> Inbound | OutMessage:
        recognition = str(voice.recognition or "").strip()
        if recognition:
            return Inbound(
                CHANNEL,
                inbound.sender_ref,
                inbound.msg_id,
                recognition,
                received_at=inbound.received_at,
                spoken=True,
            )
        try:
            audio = await asyncio.to_thread(self.api.download_media, str(voice.media_id or ""))
        except Exception as err:  # noqa: BLE001 - WeChat would not give us the recording
            log.warning("wechat: voice download failed (%s)", type(err).__name__)
            return self.app.engine.render(Reply("error.audio_bad"))
        return await self.speech.hear(inbound, audio, str(voice.format or "amr").lower())

    def _late_queued(self, inbound: Inbound) -> bool:
        with self.app.db.session() as s:
            return late_reply_queued(self.app.context(s), CHANNEL, inbound.sender_ref, inbound.msg_id or "")

    async def _deliver_late(self, key: tuple[str, str], task: asyncio.Task[list[OutMessage] | None]) -> None:
        """The engine finished after WeChat's window: queue its answer as customer-service messages."""
        try:
            if task.cancelled() or task.exception() is not None:
                log.warning("wechat: late turn for %s failed", key[1])
                return
            if not task.result():
                return  # the engine queued the answer itself, atomically with the turn
            texts = [m.text for m in task.result() or []]

            def enqueue() -> None:
                with self.app.db.session() as s:
                    enqueue_late_reply(self.app.context(s), CHANNEL, key[0], key[1], texts)

            await asyncio.to_thread(enqueue)
        finally:
            await asyncio.sleep(30)  # a straggling retry of this message still answers `success`
            self._late.discard(key)

    async def _send_voice(self, openid: str, messages: list[OutMessage]) -> None:
        """After a voice note, also say the answer (customer-service voice message)."""
        audio = await self.speech.say(messages, "amr", f"wechat:{openid}")
        if audio is None:
            return
        try:
            media_id = await asyncio.to_thread(self.api.upload_voice, audio)
            await asyncio.to_thread(self.api.send_voice, openid, media_id)
        except Exception:  # noqa: BLE001 - the text answer already went out
            log.exception("wechat: voice reply failed")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.to_thread(self.api.close)


def mount(api: FastAPI, app: App, speech: SpeechBridge) -> WechatAdapter:
    """Add /wechat and register the outbox sender for the wechat channel."""
    from bot.channels.wechat_sender import WechatSender

    s = app.settings.wechat
    client = WechatApi(s.api_base_url, s.app_id, s.app_secret)
    adapter = WechatAdapter(app, s, client, speech)
    # Plain Starlette routes: the handlers take the Request and build the Response themselves, so
    # FastAPI's per-request dependency and validation machinery would be pure overhead here.
    api.add_route("/wechat", adapter.verify, methods=["GET"], include_in_schema=False)
    api.add_route("/wechat", adapter.receive, methods=["POST"], include_in_schema=False)
    app.add_sender(CHANNEL, WechatSender(client, app, s))
    app.shutdown.append(adapter.close)
    app.wechat = adapter
    if not s.aes_key:
        log.warning(
            "wechat: plain mode: the signature does not cover the message body, so anyone holding one"
            " captured request can replay it within %ss. Choose safe mode (安全模式) and set"
            " LIANHU_WECHAT_AES_KEY (docs/channels.md)",
            int(s.freshness_seconds),
        )
    return adapter
