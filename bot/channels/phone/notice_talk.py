"""What a notice call says and hears, whoever placed it (our SIP line or Asterisk): who is calling and
why, the notice read without speech barge-in (a 喂 must not stop it; a key cuts it short), then the menu
「听清楚了请按 1，再听一遍请按 9」 (or the options by key), listening for a key or 「不要再打了」.
「不要再打了」, said or by the key offered last (8), asks once for a 1 to confirm and is kept on the
registry: no more notice calls to that resident (emergencies are not notices)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.channels.phone.hotline import Hotline
from bot.notice_words import stop_calls_spoken
from core.conversation import Actor
from core.errors import LianhuError
from core.render import Rendered
from data.services.consultations import cast_vote
from data.services.notice_calls import CallJob, stop_calls
from voice.asr import Transcript
from voice.batching import Priority
from voice.telephony.call import CallChannel, Digit, Heard, Speech

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


class NoticeTalk:
    """The conversation on one answered notice call."""

    def __init__(self, hotline: Hotline) -> None:
        self.hotline = hotline
        self.app = hotline.app

    def menu(self, job: CallJob) -> list[Rendered]:
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

    async def converse(
        self,
        job: CallJob,
        record: OutboundRecord,
        channel: CallChannel,
        notice: bytes,
        menu: bytes,
        t0: float,
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
            first_audio_at = getattr(channel, "first_audio_at", 0.0)  # the SIP line notes it
            if first_audio_at and not record.dial_to_first_audio_s:
                record.dial_to_first_audio_s = first_audio_at - t0
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
        result = await self.hotline.recognize(heard.pcm, STOP_HINTS, Priority.OUTBOUND)
        text = result.text if isinstance(result, Transcript) else ""
        record.heard.append(text)
        return STOP if stop_calls_spoken(text) else "?"

    async def _answered(self, job: CallJob, record: OutboundRecord, channel: CallChannel, key: str) -> bool:
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

    async def _confirm_stop(self, job: CallJob, record: OutboundRecord, channel: CallChannel) -> bool:
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
