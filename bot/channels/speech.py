"""Voice notes for every channel: audio → the recognizer → Inbound; replies → audio.

The voice service is built once (at start-up when the server wires it into app.voice,
else lazily on the first voice note) and shared by WeChat, Telegram and the web page.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from bot.app import App
from core.messages import Inbound, Reply
from core.render import OutMessage, Rendered

log = logging.getLogger("lianhu.channels.speech")


class SpeechBridge:
    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = asyncio.Lock()
        self._failed = False

    async def service(self) -> Any | None:
        """The shared voice.service.VoiceService, or None when speech is not available here."""
        svc = self.app.voice
        if svc is not None or self._failed:
            return svc
        async with self._lock:
            if self.app.voice is None and not self._failed:
                try:
                    await asyncio.to_thread(self.app.load_voice)
                except Exception:  # noqa: BLE001 - no model here: voice notes get a "please type" reply
                    log.exception("voice service unavailable")
                    self._failed = True
        return self.app.voice

    async def hear(self, inbound: Inbound, data: bytes, fmt: str) -> Inbound | OutMessage:
        """The inbound with recognized text, or a reply asking to repeat/type."""
        svc = await self.service()
        if svc is None:
            return self.app.engine.render(Reply("channel.voice_unavailable"))
        result = await svc.transcribe(data, fmt)
        text = getattr(result, "text", None)
        if not text:
            return self.app.engine.render(Reply(result.reply_key))
        return replace(
            inbound, text=text, asr_confidence=float(result.confidence), spoken=True, audio_format=fmt
        )

    async def speak(self, messages: list[OutMessage], fmt: str) -> bytes | None:
        """All replies of one turn as one audio clip (None when speech is unavailable or fails)."""
        svc = await self.service()
        if svc is None or not messages:
            return None
        said = [m.numbered() for m in messages]  # a listener hears the choices as well
        parts = tuple(p for r in said for p in r.parts)
        rendered = Rendered("".join(r.text for r in said), parts) if parts else "".join(r.text for r in said)
        try:
            return bytes(await svc.speak(rendered, fmt))
        except Exception:  # noqa: BLE001 - text was already answered; audio is a bonus
            log.exception("speech synthesis failed")
            return None
