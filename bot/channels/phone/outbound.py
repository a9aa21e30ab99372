"""Outbound calls for notices over the SIP line: the notice read in the natural voice (prompt library
for the fixed parts, live synthesis for the sender's words), what is said and heard on the call being
bot.channels.phone.notice_talk; the outcome and the key are recorded.

At most `phone.outbound_max_calls` at once, and never a slot the incoming calls need: an outbound
call starts only while incoming + outbound stays below `phone.max_calls`, and incoming calls are
admitted as before, so they always win. Busy and unanswered calls are tried again by the data
service (spacing, attempts, allowed hours). With `phone.outbound_via: ami` Asterisk places the call
(bot.channels.phone.ami) and hands it back answered over FastAGI (`take_call`): the same conversation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from bot.channels.phone.ami import AmiOriginator
from bot.channels.phone.hotline import Hotline
from bot.channels.phone.notice_talk import NoticeTalk, OutboundRecord
from bot.channels.phone.sip import SipChannel, SipEndpoint
from data.services.notice_calls import CallJob, call_finished, claim_calls
from voice.telephony.call import CallChannel, HungUp

__all__ = ["NoticeCaller", "OutboundRecord"]

log = logging.getLogger("lianhu.phone.outbound")
AGI_SECONDS = 15.0  # an answered Asterisk call whose AGI session has not come by then: the dialplan is wrong


class _Timed(SipChannel):
    """Notes when the first audio went out."""

    first_audio_at: float = 0.0

    def _write(self, pcm: bytes) -> int:
        taken = super()._write(pcm)
        if taken and not self.first_audio_at:
            self.first_audio_at = time.monotonic()
        return taken


@dataclass
class _Handoff:
    """A call Asterisk is placing, waiting for its AGI session (`take_call`)."""

    job: CallJob
    record: OutboundRecord
    notice: bytes
    menu: bytes
    t0: float
    started: asyncio.Future[None]
    done: asyncio.Future[None]


class NoticeCaller:
    """Polls for calls due and places them through the endpoint's user agent (or Asterisk's manager)."""

    def __init__(
        self, hotline: Hotline, endpoint: SipEndpoint | None, originator: AmiOriginator | None = None
    ) -> None:
        self.hotline = hotline
        self.endpoint = endpoint
        self.originator = originator
        self.talk = NoticeTalk(hotline)
        self.awaiting: dict[int, _Handoff] = {}  # Asterisk calls by receipt id, until their AGI session
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
        if self.originator is not None:
            await self.originator.stop()

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
        menu_pcm = await hl.audio(*self.talk.menu(job))  # both ready before the phone rings
        record.prompt_seconds = (len(notice_pcm) + len(menu_pcm)) / 16000
        if self.originator is not None:
            return await self._dial_switch(job, record, notice_pcm, menu_pcm)
        assert self.endpoint is not None
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
            await self.talk.converse(job, record, channel, notice_pcm, menu_pcm, t0)
        except HungUp:
            pass
        finally:
            await channel.hangup()
        return "answered"

    async def _dial_switch(self, job: CallJob, record: OutboundRecord, notice: bytes, menu: bytes) -> str:
        """Through Asterisk: originate, then converse once the answered call comes back over AGI."""
        assert self.originator is not None
        loop = asyncio.get_running_loop()
        handoff = _Handoff(
            job, record, notice, menu, time.monotonic(), loop.create_future(), loop.create_future()
        )
        self.awaiting[job.receipt_id] = handoff
        try:
            result = await self.originator.originate(job.number, job.receipt_id)
            if result != "answered":
                return result
            await asyncio.wait_for(asyncio.shield(handoff.started), AGI_SECONDS)
            await handoff.done
        except TimeoutError:
            log.warning("receipt %s: answered, but no AGI session came (check the dialplan)", job.receipt_id)
            return "error"
        finally:
            self.awaiting.pop(job.receipt_id, None)
        return "answered"

    async def take_call(self, receipt_id: int, channel: CallChannel) -> bool:
        """The switch hands back an answered notice call (FastAGI `notice,<receipt>`): converse on it.
        False when no such call is being placed (the AGI session is then hung up)."""
        handoff = self.awaiting.get(receipt_id)
        if handoff is None or handoff.started.done():
            return False
        handoff.started.set_result(None)
        record = handoff.record
        record.answered_at = time.monotonic()
        record.dial_to_answer_s = record.answered_at - handoff.t0
        try:
            await self.talk.converse(handoff.job, record, channel, handoff.notice, handoff.menu, handoff.t0)
        except HungUp:
            pass
        finally:
            await channel.hangup()
            if not handoff.done.done():
                handoff.done.set_result(None)
        return True
