"""The call flow: greeting with the menu, then turns through the same engine as every channel.

Speech or a key interrupts any prompt. Replies are spoken from their structured choices as keypad
prompts (「对请按 1。重说请按 2。」); a report is filed only on 1 (the engine's own confirmation); the
ticket number is read digit by digit and repeated on 9.
No input and no match are re-asked `max_retries` times each, then the caller is transferred to the
duty phone, or (out of hours, or nobody answers) leaves a message that becomes a call-back task.
An emergency takes the engine's emergency path and then goes to a human. A hang-up at any point
ends the flow with nothing half-created: the engine commits a ticket only on confirmation.
"""

from __future__ import annotations

import logging
import math
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.channels.phone.hotline import Caller, Hotline
from bot.engine import Answer
from core.conversation import DialogueState, State
from core.messages import Choice
from core.render import Rendered, says_choices
from handlers.menus import PHONE_MAIN
from voice import codecs, recordings
from voice.asr import NotRecognized, Recognition, relative_alternatives
from voice.telephony.call import RATE, CallChannel, Digit, HungUp, NoInput, Speech

log = logging.getLogger("lianhu.phone")
NOT_UNDERSTOOD = {"help.not_understood", "dialogue.retry"}
TOLD = {
    "report.created",
    "report.created_urgent",
    "report.duplicate_open",
    "status.header",
    "status.line",
    "status.none",
    "status.more",
}
GOODBYE = {"help.goodbye"}
# Speech this soon into our reply to what the caller said is the caller going on after a pause (not
# an answer to a question they have not heard yet): the two parts are heard again as one.
CONTINUE_WITHIN_S = 1.5
# States a spoken turn may leave behind and still be taken back: the report is only being collected.
UNDOABLE = {State.REPORT_CONFIRM, State.REPORT_CLARIFY, State.REPORT_ADDRESS, State.REPORT_DESCRIPTION}
MESSAGE_PAUSE_MS = 2500  # a message goes on through the pauses of someone thinking what to say next


@dataclass
class CallRecord:
    """What happened on one call (kept by the hotline for tests, the bench and operators)."""

    call_id: str
    caller: str
    known: bool = False
    heard: list[str] = field(
        default_factory=list
    )  # "key:1", "speech:我家水管漏水了", "silence", "unrecognized"
    said: list[str] = field(default_factory=list)  # the text of each prompt, in order
    tickets: list[str] = field(default_factory=list)
    transferred_to: str = ""
    message: str = ""  # path of a recorded message
    outcome: str = ""  # goodbye | transferred | message | hung_up | emergency | error
    recognize_seconds: list[float] = field(default_factory=list)  # every recognition, early ones too
    continued: int = 0  # utterances joined to the one before (the caller went on after a pause)
    early_kept: int = 0
    early_dropped: int = 0
    engine_seconds: list[float] = field(default_factory=list)
    reply_latencies: list[float] = field(default_factory=list)  # caller's end of speech → first reply audio
    ended_at: float = 0.0


def beep(ms: int = 350, hz: int = 1000) -> bytes:
    """The tone before a recorded message."""
    n = RATE * ms // 1000
    return b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * hz * i / RATE))) for i in range(n))


class CallFlow:
    def __init__(self, hotline: Hotline, channel: CallChannel) -> None:
        self.hl = hotline
        self.ch = channel
        self.settings = hotline.settings
        self.record = CallRecord(channel.call_id, channel.caller)
        self.caller = Caller(channel.caller, False)
        self.state = State.IDLE  # the engine's dialogue state for this caller
        self.last_told: list[Rendered] = []
        self._turns = 0
        self._undo: tuple[bytes, DialogueState] | None = None  # the last spoken turn, to take back
        self._said: list[bytes] = []  # what the caller said since the last turn that was understood

    async def run(self) -> CallRecord:
        self.hl.live[self.record.call_id] = self.record
        try:
            await self._converse()
        except HungUp:
            self.record.outcome = self.record.outcome or "hung_up"
            if self.state != State.IDLE:
                await self.hl.reset(self.caller.number)
        except Exception:
            log.exception("call %s failed", self.ch.call_id)
            self.record.outcome = "error"
            await self.ch.hangup()
        finally:
            timings = self.ch.timings
            self.record.reply_latencies = list(timings.reply_latencies)
            self.record.early_kept, self.record.early_dropped = timings.early_kept, timings.early_dropped
            self.record.ended_at = time.monotonic()
            self.hl.keep(self.record)
        return self.record

    # -- the conversation ---------------------------------------------------------------------------
    async def _converse(self) -> None:
        r = self.hl.render
        self.caller = await self.hl.bind_caller(self.ch.caller)
        self.record.known = self.caller.known
        hello = r("greet.hello_named", name=self.caller.name) if self.caller.name else r("greet.hello")
        keys = self._keys(PHONE_MAIN)
        prompt, question = [hello, r("menu.main_phone"), *keys], keys
        after = False  # a ticket number or status was told: silence now means goodbye
        no_input = no_match = 0
        while True:
            heard = await self.ch.ask(
                await self._audio(prompt),
                speech=True,
                no_input_s=self.settings.no_input_seconds,
                # A guess that may be thrown away is only worth it when it takes nobody's turn.
                early=self._recognize if self.hl.voice.has_spare_capacity else None,
                keep_buffered=self._undo is not None,  # they may have gone on while we were thinking
            )
            undo, self._undo = self._undo, None
            if isinstance(heard, NoInput) and self.state == State.SAFETY_CHECK:
                self.record.heard.append("silence")
                answer = await self._turn("")  # no answer to 「您现在有危险吗？」 counts as yes
            elif isinstance(heard, NoInput):
                self.record.heard.append("silence")
                if after:
                    return await self._goodbye()
                no_input += 1
                if no_input > self.settings.max_retries:
                    return await self._rescue()
                prompt = [r("phone.no_input"), *question]
                continue
            elif isinstance(heard, Digit):
                self.record.heard.append(f"key:{heard.key}")
                if heard.key == "9" and self.last_told:
                    prompt = [*self.last_told, r("phone.repeat"), r("phone.more")]
                    continue
                if heard.key == "0" and self.state == State.IDLE:
                    return await self._to_human()
                answer = await self._turn(heard.key)
            else:
                if undo is not None and heard.barged_in and heard.barged_at_s <= CONTINUE_WITHIN_S:
                    heard = await self._join(undo, heard)
                before = await self.hl.snapshot(self.caller.number)
                spoken = await self._speech_turn(heard)
                if spoken is not None and self._undoable(spoken):
                    self._undo = (heard.pcm, before)
                if spoken is None:
                    no_match += 1
                    if no_match > self.settings.max_retries:
                        return await self._rescue()
                    prompt = [r("phone.not_heard"), *question]
                    continue
                answer = spoken
                self._said.append(heard.pcm)
            if answer.action == "emergency.report":
                return await self._emergency(answer)
            await self._keep_voice(answer)
            if answer.action in NOT_UNDERSTOOD:
                no_match += 1
                if no_match > self.settings.max_retries:
                    return await self._rescue()
            else:
                no_match = no_input = 0
            pieces = self._spoken(answer)
            if answer.action in GOODBYE:
                await self.ch.say(await self._audio(pieces))
                return await self._hangup("goodbye")
            told = [Rendered(m.body, m.parts) for m in answer.messages if m.key in TOLD]
            if told:
                self.last_told, after = told, True
                prompt, question = (
                    [*pieces, r("phone.repeat"), r("phone.more")],
                    [r("phone.repeat"), r("phone.more")],
                )
            else:
                after = False
                prompt, question = pieces, pieces[-1:]

    async def _keep_voice(self, answer: Answer) -> None:
        """A message passed to a person (留言) keeps the caller's own voice beside the transcript:
        everything said since the last turn that was understood."""
        numbers = [
            p.text for m in answer.messages if m.key == "message.left" for p in m.parts if p.kind == "digits"
        ]
        said, self._said = self._said, []
        if numbers and said:
            path = self._save_message(b"".join(said))
            await self.hl.attach_recording(numbers[-1], str(path))
            self.record.message = str(path)
            self.record.tickets.append(numbers[-1])
        elif answer.action in NOT_UNDERSTOOD:
            self._said = said  # asked again: keep listening

    def _undoable(self, answer: Answer) -> bool:
        if not self.caller.number or any(m.key in TOLD for m in answer.messages):
            return False
        return self.state in UNDOABLE or answer.action in NOT_UNDERSTOOD

    async def _join(self, undo: tuple[bytes, DialogueState], heard: Speech) -> Speech:
        """Step back over the last spoken turn and hear it again together with what followed."""
        pcm, before = undo
        await self.hl.restore(self.caller.number, before)
        self.state = before.name
        self.record.continued += 1
        gap = b"\x00\x00" * (RATE // 5)
        return Speech(pcm + gap + heard.pcm, heard.voice_end, heard.barged_in)

    async def _recognize(self, pcm: bytes) -> Recognition:
        t0 = time.perf_counter()
        hints = await self.hl.address_hints(self.caller.number) if self.state == State.REPORT_ADDRESS else ()
        result = await self.hl.recognize(pcm, hints)
        self.record.recognize_seconds.append(time.perf_counter() - t0)
        return result

    async def _speech_turn(self, heard: Speech) -> Answer | None:
        result = await (heard.early if heard.early is not None else self._recognize(heard.pcm))
        if isinstance(result, NotRecognized):
            self.record.heard.append(f"unrecognized:{result.reason}")
            return None
        self.record.heard.append(f"speech:{result.text}")
        return await self._turn(result.text, result.confidence, relative_alternatives(result))

    async def _turn(
        self, text: str, confidence: float | None = None, alternatives: tuple[tuple[str, float], ...] = ()
    ) -> Answer:
        self._turns += 1
        t0 = time.perf_counter()
        call_turn = f"{self.ch.call_id}:{self._turns}"
        answer = await self.hl.handle(self.caller, call_turn, text, confidence, alternatives)
        self.record.engine_seconds.append(time.perf_counter() - t0)
        self.state = answer.state or State.IDLE
        for m in answer.messages:
            if m.key in ("report.created", "report.created_urgent"):
                self.record.tickets.extend(
                    [p.text for p in m.parts if p.kind == "digits"][:1]
                )  # {ticket_no} first
        return answer

    # -- endings ------------------------------------------------------------------------------------
    async def _emergency(self, answer: Answer) -> None:
        """The engine has raised the alarm; tell the caller, then put a person on the line."""
        self.record.outcome = "emergency"
        await self.ch.say(await self._audio(self._spoken(answer)))
        target = self.hl.duty_target()
        if target:
            await self.ch.say(await self._audio([self.hl.render("phone.transfer")]))
            if await self._transfer(target):
                return
        await self._hangup("emergency")

    async def _rescue(self) -> None:
        """Stuck after the re-asks: a person if one is on duty, else a message for a call-back."""
        await self._to_human()

    async def _to_human(self) -> None:
        target = self.hl.duty_target()
        if target and self.hl.office_open():
            await self.ch.say(await self._audio([self.hl.render("phone.transfer")]))
            if await self._transfer(target):
                return
            return await self._leave_message("phone.no_answer")
        await self._leave_message("phone.after_hours")

    async def _transfer(self, target: str) -> bool:
        ok = await self.ch.transfer(target)
        log.info("call %s transfer to %s: %s", self.ch.call_id, target, "ok" if ok else "failed")
        if ok:
            self.record.transferred_to = target
            self.record.outcome = "transferred"
        return ok

    async def _leave_message(self, intro_key: str) -> None:
        """Record a message; transcribed, it becomes a ticket flagged for a call-back (or, when it cannot
        be routed, the engine's hand-off: a call-back task for the caller's leader). A caller who hangs
        up as they finish speaking (as many do) still leaves their message."""
        r = self.hl.render
        heard = await self.ch.ask(
            await self._audio([r(intro_key)]) + beep(),
            speech=True,
            no_input_s=8.0,
            max_speech_s=60.0,
            keep_on_hangup=True,
            end_silence_ms=MESSAGE_PAUSE_MS,
        )
        ticket = None
        if isinstance(heard, Speech):
            self.record.message = str(self._save_message(heard.pcm))
            result = await self.hl.recognize(heard.pcm)
            text = "" if isinstance(result, NotRecognized) else result.text
            self.record.heard.append(f"message:{text}")
            ticket = await self.hl.file_message(self.caller, text, self.record.message)
        self.state = State.IDLE
        await self.hl.reset(self.caller.number)
        if ticket:
            self.record.tickets.append(ticket)
        else:
            await self._turn("0")  # the engine's human hand-off: a call-back task for the leader
        self.record.outcome = "message"
        if isinstance(heard, Speech) and heard.hung_up:
            return
        await self.ch.say(await self._audio([r("phone.message_saved")]))
        await self.ch.hangup()

    def _save_message(self, pcm: bytes) -> Path:
        directory = self.hl.app.settings.path(self.hl.app.settings.paths.recordings) / "phone"
        wav = codecs.encode(pcm, "wav", rate=RATE)
        path = recordings.save(directory, wav, "wav", self.hl.app.clock.now())
        log.info("call %s left a message: %s", self.ch.call_id, path)
        return path

    async def _goodbye(self) -> None:
        await self.ch.say(await self._audio([self.hl.render("help.goodbye")]))
        await self._hangup("goodbye")

    async def _hangup(self, outcome: str) -> None:
        self.record.outcome = self.record.outcome or outcome
        await self.ch.hangup()

    # -- what to say --------------------------------------------------------------------------------
    async def _audio(self, pieces: list[Rendered]) -> bytes:
        self.record.said.append("".join(p.text for p in pieces))
        return await self.hl.audio(*pieces)

    def _spoken(self, answer: Answer) -> list[Rendered]:
        """The engine's replies as the phone says them: each sentence, then its choices as keys."""
        pieces: list[Rendered] = []
        for m in answer.messages:
            if m.parts:
                pieces.append(Rendered(m.body, m.parts))
            if not says_choices(m.body, m.choices):
                pieces.extend(self.hl.render("phone.choice", item=label, number=d) for d, label in m.choices)
        return pieces

    def _keys(self, choices: tuple[Choice, ...]) -> list[Rendered]:
        """A declared menu as keypad prompts (the greeting's main menu)."""
        label = self.hl.app.engine.renderer.label
        return [self.hl.render("phone.choice", item=label(c), number=c.digit) for c in choices]
