"""Outbound calls for notices over the SIP line: who is calling and why, the notice read in the
natural voice (prompt library for the fixed parts, live synthesis for the sender's words), then
「听清楚了请按 1，再听一遍请按 9」 (or the options by key for a consultation); the key is recorded.
「不要再打了」, said or by the key offered last (8), asks once for a 1 to confirm and is kept on the
registry: no more notice calls to that resident (emergencies are not notices).

At most `phone.outbound_max_calls` at once, and never a slot the incoming calls need: an outbound
call starts only while incoming + outbound stays below `phone.max_calls`, and incoming calls are
admitted as before, so they always win. Busy and unanswered calls are tried again by the data
service (spacing, attempts, allowed hours)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot.channels.phone.hotline import Hotline
from bot.channels.phone.sip import SipChannel, SipEndpoint
from bot.notice_words import stop_calls_spoken
from core.conversation import Actor
from core.errors import LianhuError
from core.render import Rendered
from data.services.consultations import cast_vote
from data.services.notice_calls import CallJob, call_finished, claim_calls, stop_calls
from voice.asr import Transcript
from voice.telephony.call import Digit, Heard, HungUp, Speech

log = logging.getLogger("lianhu.phone.outbound")
# The key for 「不要再打了」, offered last. Not 0: everywhere else on the line 0 is 转人工, and a caller
# wanting a person must not opt out by it; not 2, which is 不对 in every confirmation.
STOP_KEY = "8"
STOP = "stop"  # what `_key_of` returns for a spoken 「不要再打了」
STOP_HINTS = ("不要再打了",)  # the recognizer hears it far better when told to expect it


@dataclass
class OutboundRecord:
    """One outbound call, kept for tests, the bench and operators."""

    receipt_id: int
    number: str
    result: str = ""  # answered | busy | no_answer | error
    keys: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)  # what the resident said, as recognized
    acknowledged: bool = False  # pressed 1 on a notice
    stopped: bool = False  # confirmed 「不要再打了」
    dial_to_answer_s: float = 0.0
    dial_to_first_audio_s: float = 0.0
    answered_at: float = 0.0  # time.monotonic()
    prompt_seconds: float = 0.0  # how long the first reading (intro, notice, keys) lasts


class _Timed(SipChannel):
    """Notes when the first audio went out."""

    first_audio_at: float = 0.0

    def _write(self, pcm: bytes) -> int:
        taken = super()._write(pcm)
        if taken and not self.first_audio_at:
            self.first_audio_at = time.monotonic()
        return taken


class NoticeCaller:
    """Polls for calls due and places them through the endpoint's user agent."""

    def __init__(self, hotline: Hotline, endpoint: SipEndpoint) -> None:
        self.hotline = hotline
        self.endpoint = endpoint
        self.app = hotline.app
        self.active = 0
        self.records: list[OutboundRecord] = []
        self.live: dict[int, OutboundRecord] = {}  # calls in progress, by receipt id
        self.tasks: set[asyncio.Task[Any]] = set()

    def free_slots(self) -> int:
        phone = self.app.settings.phone
        return max(
            0,
            min(
                phone.outbound_max_calls - self.active,
                self.hotline.max_calls - self.hotline.active - self.active - 1,
            ),
        )

    async def run_once(self) -> int:
        """Start the calls that are due now (as many as there are free slots); returns how many."""
        limit = self.free_slots()
        if limit <= 0:
            return 0

        def claim() -> list[CallJob]:
            with self.app.db.session() as s:
                return claim_calls(self.app.context(s), limit)

        jobs = await asyncio.to_thread(claim)
        for job in jobs:
            self.active += 1
            task = asyncio.ensure_future(self._place(job))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return len(jobs)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - keep calling; the rows stay due
                log.exception("outbound pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.app.settings.notices.poll_seconds)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _place(self, job: CallJob) -> None:
        record = OutboundRecord(job.receipt_id, job.number)
        self.live[job.receipt_id] = record
        try:
            record.result = await self._dial(job, record)
        except Exception as err:  # noqa: BLE001 - one broken call must not stop the others
            log.warning("outbound call for receipt %s failed: %s", job.receipt_id, type(err).__name__)
            record.result = record.result or "error"
        finally:
            self.active -= 1
            self.live.pop(job.receipt_id, None)
            self.records.append(record)
            del self.records[:-200]
            await asyncio.to_thread(self._finish, job, record)

    def _finish(self, job: CallJob, record: OutboundRecord) -> None:
        with self.app.db.session() as s:
            ctx = self.app.context(s)
            key = "1" if record.acknowledged else None
            call_finished(ctx, job.receipt_id, record.result, key)

    async def _dial(self, job: CallJob, record: OutboundRecord) -> str:
        import baresip

        hl, cfg = self.hotline, self.app.settings
        intro_key = "notice_call.consult_intro" if job.kind == "consult" else "notice_call.intro"
        notice_pcm = await hl.audio(
            hl.render(intro_key, sender=job.sender), hl.render("notice_call.text", text=job.text)
        )
        menu_pcm = await hl.audio(*self._menu(job))  # both ready before the phone rings
        record.prompt_seconds = (len(notice_pcm) + len(menu_pcm)) / 16000
        t0 = time.monotonic()
        call = await self.endpoint.ua.dial(cfg.phone.outbound_uri.format(number=job.number))
        try:
            await call.wait_established(timeout=cfg.notices.call_ring_seconds)
        except baresip.CallBusy:
            return "busy"
        except (baresip.CallFailed, TimeoutError, baresip.BaresipError):
            with contextlib.suppress(Exception):
                await call.hangup()
            return "no_answer"
        record.answered_at = time.monotonic()
        record.dial_to_answer_s = record.answered_at - t0
        channel = _Timed(call, job.number, end_silence_ms=cfg.phone.end_silence_ms)
        try:
            await self._converse(job, record, channel, notice_pcm, menu_pcm, t0)
        except HungUp:
            pass
        finally:
            await channel.hangup()
        return "answered"

    def _menu(self, job: CallJob) -> list[Rendered]:
        """The keys after the notice: 1 / 9 (or the options and 9), and 8 for 「不要再打了」 last."""
        r = self.hotline.render
        if job.kind == "consult":
            menu = [r("phone.choice", item=o, number=str(n)) for n, o in enumerate(job.options, 1)]
            menu.append(r("notice_call.vote_prompt"))
        else:
            menu = [r("notice_call.ack_prompt")]
        return [*menu, r("notice_call.stop_offer")] if self._offers_stop(job) else menu

    @staticmethod
    def _offers_stop(job: CallJob) -> bool:
        return not (job.kind == "consult" and len(job.options) >= int(STOP_KEY))

    async def _converse(
        self, job: CallJob, record: OutboundRecord, channel: _Timed, notice: bytes, menu: bytes, t0: float
    ) -> None:
        """Read the notice (a key cuts it short; speech does not: a 喂 must not stop the reading), then
        the menu, listening for a key or 「不要再打了」; 9 or silence reads it again, up to the repeats."""
        hl, repeats, read = self.hotline, 0, True
        while True:
            heard: Heard | None = None
            if read:
                record.said.append(job.text)
                heard = await channel.say(notice)
            if heard is None:
                heard = await channel.ask(menu, no_input_s=hl.settings.no_input_seconds)
            key = await self._key_of(heard, record)
            if channel.first_audio_at and not record.dial_to_first_audio_s:
                record.dial_to_first_audio_s = channel.first_audio_at - t0
            if await self._answered(job, record, channel, key):
                return
            if repeats >= self.app.settings.notices.call_repeats:
                await channel.say(await hl.audio(hl.render("notice_call.goodbye")))
                return
            repeats += 1
            read = key in ("9", "")

    async def _key_of(self, heard: Heard, record: OutboundRecord) -> str:
        """A key as pressed; speech: STOP for 「不要再打了」, else "?" (the menu again); silence: ""."""
        if isinstance(heard, Digit):
            record.keys.append(heard.key)
            return heard.key
        if not isinstance(heard, Speech):
            return ""
        result = await self.hotline.recognize(heard.pcm, STOP_HINTS)
        text = result.text if isinstance(result, Transcript) else ""
        record.heard.append(text)
        return STOP if stop_calls_spoken(text) else "?"

    async def _answered(self, job: CallJob, record: OutboundRecord, channel: _Timed, key: str) -> bool:
        """Act on the key; True when the call is done."""
        hl = self.hotline
        if job.kind == "notice" and key == "1":
            record.acknowledged = True
            await channel.say(await hl.audio(hl.render("notice_call.thanks")))
            return True
        chosen = job.kind == "consult" and key.isdigit() and 1 <= int(key) <= len(job.options)
        if chosen and await asyncio.to_thread(self._vote, job, key):
            await channel.say(await hl.audio(hl.render("notice_call.voted")))
            return True
        if key == STOP or (key == STOP_KEY and self._offers_stop(job)):
            return await self._confirm_stop(job, record, channel)
        return False

    async def _confirm_stop(self, job: CallJob, record: OutboundRecord, channel: _Timed) -> bool:
        """「以后不再打电话给您说通知，对吗？」: only 1 stops the calls (a stray key must not)."""
        hl = self.hotline
        confirm = await hl.audio(hl.render("notice_call.stop_confirm"))
        heard = await channel.ask(confirm, speech=False, no_input_s=hl.settings.no_input_seconds)
        if not (isinstance(heard, Digit) and heard.key == "1"):
            return False
        record.keys.append("1")
        await asyncio.to_thread(self._stop, job)
        record.stopped = True
        await channel.say(await hl.audio(hl.render("notice.stop_calls")))
        return True

    def _actor(self, job: CallJob) -> Actor:
        return Actor(
            0, "phone", job.number, "resident", resident_id=job.resident_id, household_id=job.household_id
        )

    def _stop(self, job: CallJob) -> None:
        with self.app.db.session() as s:
            stop_calls(self.app.context(s), self._actor(job))

    def _vote(self, job: CallJob, key: str) -> bool:
        with self.app.db.session() as s:
            try:
                cast_vote(self.app.context(s), self._actor(job), str(job.notice_id), key, "phone")
            except LianhuError:
                return False
        return True
