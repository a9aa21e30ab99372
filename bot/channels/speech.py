"""Voice notes for every channel: audio → the recognizer → Inbound; replies → audio.

The voice service is built once (at start-up when the server wires it into app.voice,
else lazily on the first voice note) and shared by WeChat, Telegram and the web page.
Recognition and synthesis are the costly work a sender can ask for: both wait in bounded queues
(more is answered "busy, try again"), synthesis is limited per person and in length, and audio
already rendered is kept for the next time the same reply is read aloud.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from bot.app import App
from bot.guard import AudioCache, Busy, Gate
from core.messages import Inbound, Reply
from core.render import OutMessage, Rendered
from data.services.phone import note_hints
from voice.asr import NotRecognized, Transcript, relative_alternatives
from voice.batching import Priority

log = logging.getLogger("lianhu.channels.speech")


class TooLong(Exception):  # noqa: N818 - a refusal
    """More to read aloud than one request may ask for."""


class SpeechBridge:
    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = asyncio.Lock()
        self._failed = False
        lim = app.settings.limits
        self.max_chars = lim.speak_max_chars
        self.speaking = Gate(lim.speak_in_flight, lim.speak_per_identity, lim.speak_queue)
        # As many voice notes as the recognizer decodes in one batch reach its queue; more wait here.
        at_once = app.settings.asr.batch_max
        self.hearing = Gate(at_once, at_once, lim.recognition_queue)
        self.cache = AudioCache(lim.speak_cache_mb * 1024 * 1024)

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

    def hints(self, inbound: Inbound) -> tuple[str, ...]:
        """What the sender is likely to say, for the recognizer (their addresses while one is asked)."""
        try:
            with self.app.db.session() as session:
                return note_hints(self.app.context(session), inbound.channel, inbound.sender_ref)
        except Exception as err:  # noqa: BLE001 - hints only help; the note is heard without them
            log.warning("recognition hints unavailable (%s)", type(err).__name__)
            return ()

    async def hear(self, inbound: Inbound, data: bytes, fmt: str) -> Inbound | OutMessage:
        """The inbound with recognized text, or a reply asking to repeat/type (or to try later)."""
        svc = await self.service()
        if svc is None:
            return self.app.engine.render(Reply("channel.voice_unavailable"))
        hints = await asyncio.to_thread(self.hints, inbound)
        try:
            async with self.hearing.enter():
                result = await svc.transcribe(data, fmt, hints=hints, priority=Priority.NOTE)
            if isinstance(result, NotRecognized) and result.reason == "busy":
                raise Busy("recognizer")
        except Busy:
            self.app.metrics.refused(inbound.channel, "recognition_busy")
            return self.app.engine.render(Reply("guard.busy"))
        text = getattr(result, "text", None)
        if not text:
            return self.app.engine.render(Reply(result.reply_key))
        return replace(
            inbound,
            text=text,
            asr_confidence=float(result.confidence),
            asr_alternatives=relative_alternatives(result) if isinstance(result, Transcript) else (),
            spoken=True,
            audio_format=fmt,
        )

    async def say(self, messages: list[OutMessage], fmt: str, who: str = "") -> bytes | None:
        """speak(), with no audio instead of Busy: for replies whose text went out already."""
        try:
            return await self.speak(messages, fmt, who)
        except Busy:
            self.app.metrics.refused("speech", "busy")
            return None

    def said(self, messages: list[OutMessage]) -> Rendered | str:
        """What reading these replies aloud says (the choices too); TooLong past the limit."""
        said = [m.numbered() for m in messages]  # a listener hears the choices as well
        text = "".join(r.text for r in said)
        if len(text) > self.max_chars:
            raise TooLong(len(text))
        parts = tuple(p for r in said for p in r.parts)
        return Rendered(text, parts) if parts else text

    async def speak(self, messages: list[OutMessage], fmt: str, who: str = "") -> bytes | None:
        """All replies of one turn as one audio clip (None when speech is unavailable, fails or is
        too long). Busy when this person, or everyone, is already waiting for as much as allowed."""
        svc = await self.service()
        if svc is None or not messages:
            return None
        try:
            rendered = self.said(messages)
        except TooLong:
            log.info("speech: reply too long to read aloud")
            return None
        key = (repr(rendered), fmt)
        audio = self.cache.get(key)
        if audio is not None:
            return audio
        async with self.speaking.enter(who):
            try:
                audio = bytes(await svc.speak(rendered, fmt))
            except Exception as err:  # noqa: BLE001 - text was already answered; audio is a bonus
                log.warning("speech synthesis failed (%s)", type(err).__name__)
                return None
        self.cache.put(key, audio)
        return audio
