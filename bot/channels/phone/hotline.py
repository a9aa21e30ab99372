"""The hotline's shared pieces, built once per process: engine turns, caller binding, prompt audio,
recognition, office hours and the concurrent-call limit. Blocking work runs in worker threads."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import App
from bot.engine import Answer, spoken_parse
from core.conversation import DialogueState
from core.messages import Inbound
from core.render import Part, Rendered, join
from data.services.conversations import load_state, save_state
from data.services.directory import get_or_create_identity
from data.services.messages import attach_recording
from data.services.phone import bind_caller, file_callback_ticket, own_address_hints
from voice import codecs
from voice.asr import Recognition
from voice.batching import Priority
from voice.service import VoiceService
from voice.telephony.call import RATE

log = logging.getLogger("lianhu.phone")
CHANNEL = "phone"


@dataclass(frozen=True)
class Caller:
    number: str  # digits only, "" when withheld
    known: bool  # the number belongs to exactly one registered resident (or was bound before)
    name: str = ""


def caller_number(uri_or_number: str | None) -> str:
    """'sip:+8613800000502@host' / '"X" <sip:138…@h>' / '138…' → '13800000502' ("" when withheld)."""
    raw = uri_or_number or ""
    m = re.search(r"sips?:([^@;>]+)@", raw)
    user = m.group(1) if m else raw
    digits = re.sub(r"\D", "", user)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            digits = digits[len(prefix) :]
    return digits


def office_open(hours: str, now_utc: datetime, timezone: str) -> bool:
    """'08:30-17:30' (local time) contains now; an empty setting means always open."""
    if not hours.strip():
        return True
    start_s, _, end_s = hours.partition("-")
    start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
    local = now_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).time()
    return start <= local < end if start <= end else (local >= start or local < end)


class Hotline:
    """Everything a call flow needs from the rest of Lianhu."""

    def __init__(
        self, app: App, voice: VoiceService, *, max_calls: int | None = None, cache_size: int = 256
    ) -> None:
        self.app = app
        self.settings = app.settings.phone
        self.voice = voice
        self.max_calls = max_calls if max_calls is not None else self.settings.max_calls
        self.active = 0
        self._audio: OrderedDict[tuple[Part, ...], bytes] = OrderedDict()
        self._cache_size = cache_size
        self.records: list[Any] = []  # finished CallRecords (bounded), for tests, bench and operators
        self.live: dict[str, Any] = {}  # CallRecords of calls in progress, by call id
        self.caller: Any = None  # the NoticeCaller placing notice calls on this line, when running

    # -- admission ----------------------------------------------------------------------------------
    def admit(self) -> bool:
        """Take a call slot; False when the line is full (the caller hears the busy prompt)."""
        if self.active >= self.max_calls:
            return False
        self.active += 1
        self.app.metrics.calls_in_progress(self.active)
        return True

    def release(self) -> None:
        self.active = max(0, self.active - 1)
        self.app.metrics.calls_in_progress(self.active)

    def keep(self, record: Any) -> None:
        self.live.pop(record.call_id, None)
        self.records.append(record)
        del self.records[:-200]

    # -- policy -------------------------------------------------------------------------------------
    def office_open(self) -> bool:
        return office_open(self.settings.office_hours, self.app.clock.now(), self.app.settings.timezone)

    def duty_target(self) -> str:
        """Where transfers go: a SIP URI as configured, or the duty number at the SIP listen host."""
        number = self.settings.duty_number.strip()
        if not number or number.startswith(("sip:", "sips:", "tel:")):
            return number
        host = self.settings.sip_listen.rpartition(":")[0] or "127.0.0.1"
        return f"sip:{number}@{host}"

    # -- the engine ---------------------------------------------------------------------------------
    async def bind_caller(self, number: str) -> Caller:
        return await asyncio.to_thread(self._bind_caller, number)

    def _bind_caller(self, number: str) -> Caller:
        """Find or create the ("phone", number) identity, bind it to the resident whose phone this is,
        and start the call's conversation afresh (a dropped call must not leave a pending question)."""
        if not number:
            return Caller("", False)
        with self.app.db.session() as s:
            known, name = bind_caller(self.app.context(s), CHANNEL, number)
        return Caller(number, known, name)

    async def reset(self, number: str) -> None:
        """Forget any half-asked question (hang-up mid-flow, or before a hand-off)."""
        if number:
            await asyncio.to_thread(self._bind_caller, number)

    async def snapshot(self, number: str) -> DialogueState:
        """The caller's dialogue state now (to step back one turn, see `restore`)."""

        def read() -> DialogueState:
            with self.app.db.session() as s:
                ctx = self.app.context(s)
                return load_state(ctx, get_or_create_identity(ctx, CHANNEL, number).id)

        return await asyncio.to_thread(read) if number else DialogueState()

    async def restore(self, number: str, state: DialogueState) -> None:
        def write() -> None:
            with self.app.db.session() as s:
                ctx = self.app.context(s)
                save_state(ctx, get_or_create_identity(ctx, CHANNEL, number).id, state)

        if number:
            await asyncio.to_thread(write)

    async def handle(
        self,
        caller: Caller,
        msg_id: str,
        text: str,
        confidence: float | None = None,
        alternatives: tuple[tuple[str, float], ...] = (),
    ) -> Answer:
        """One turn of a call; `alternatives` are the recognizer's other readings (n-best)."""
        inbound = Inbound(
            CHANNEL,
            caller.number or "withheld",
            msg_id,
            text,
            received_at=self.app.clock.now(),
            asr_confidence=confidence,
            asr_alternatives=alternatives,
            spoken=confidence is not None,
            keypad=True,
        )
        return await self.app.turn(inbound, unverified_caller=not caller.known)

    async def address_hints(self, number: str) -> tuple[str, ...]:
        """Registered addresses as recognition hints: the caller's own and their unit's first (the
        registry's when the number is not a resident's)."""

        def read() -> tuple[str, ...]:
            with self.app.db.session() as s:
                return own_address_hints(self.app.context(s), CHANNEL, number)

        return await asyncio.to_thread(read)

    async def file_message(self, caller: Caller, transcript: str, recording: str) -> str | None:
        """A recorded message → a call-back ticket (item and address understood from the transcript)."""
        if not caller.number:
            return None
        parse = spoken_parse(self.app.engine.parser)(transcript) if transcript else None
        item = self.app.catalog.place(
            parse.item if parse else None, parse.category if parse else None, fallback=True
        )
        assert item is not None
        addr = parse.entities.address if parse is not None else None
        where = (addr.building, addr.unit, addr.room) if addr else (None, None, None)

        def write() -> str | None:
            with self.app.db.session() as s:
                return file_callback_ticket(
                    self.app.context(s),
                    caller.number,
                    transcript=transcript,
                    item_code=item,
                    recording=recording,
                    address=where,
                )

        return await asyncio.to_thread(write)

    async def attach_recording(self, ticket_no: str, path: str) -> None:
        def write() -> None:
            with self.app.db.session() as s:
                attach_recording(self.app.context(s), ticket_no, path)

        await asyncio.to_thread(write)

    # -- speech -------------------------------------------------------------------------------------
    def render(self, key: str, **params: Any) -> Rendered:
        return self.app.strings.render(key, params)

    async def audio(self, *pieces: Rendered) -> bytes:
        """8 kHz PCM for spoken pieces (prompt library first, live synthesis for free text); cached."""
        rendered = join([p for p in pieces if p.parts], " ")
        key = rendered.parts
        pcm = self._audio.get(key)
        if pcm is None:
            pcm = await asyncio.to_thread(self._assemble, rendered)
            self._audio[key] = pcm
            while len(self._audio) > self._cache_size:
                self._audio.popitem(last=False)
        else:
            self._audio.move_to_end(key)
        return pcm

    def _assemble(self, rendered: Rendered) -> bytes:
        speech = self.voice.assembler.assemble(rendered)
        return codecs.resample(speech.pcm, codecs.RATE, RATE)

    async def recognize(
        self, pcm8k: bytes, hints: tuple[str, ...] = (), priority: Priority = Priority.CALL
    ) -> Recognition:
        """Caller audio → text, off the event loop; incoming calls go first in the recognizer's queue."""
        return await self.voice.transcribe(pcm8k, "pcm8k", hints, priority)
