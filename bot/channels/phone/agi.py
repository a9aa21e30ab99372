"""FastAGI: the same call flow for sites whose switch is Asterisk/FreePBX (panoramisk 1.4).

Asterisk keeps the media; we send commands. Prompts are written as 8 kHz `.sln` files into
`sounds_dir` and played with STREAM FILE (any key interrupts); the caller is heard with RECORD FILE
into `record_dir` (silence ends it) and the file is read back here, so both directories must be
shared with Asterisk (same machine, or a network mount). A transfer sets LIANHU_TRANSFER and ends
the AGI; the dialplan dials it:

    exten => 12345,1,Answer()
     same => n,AGI(agi://127.0.0.1:4573/lianhu)
     same => n,GotoIf($["${LIANHU_TRANSFER}" = ""]?done)
     same => n,Dial(PJSIP/${LIANHU_TRANSFER},60)
     same => n(done),Hangup()

Barge-in here is by key only (plain AGI cannot listen while it plays).

Notice calls that Asterisk originated for us (`phone.outbound_via: ami`) come back answered on the
route `notice` with the receipt as argument (agi://…/notice,42) and are read by the NoticeCaller.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import wave
from collections import OrderedDict
from pathlib import Path
from typing import Any

from panoramisk.fast_agi import Application, Request

from bot.channels.phone.ami import NOTICE_ROUTE
from bot.channels.phone.flow import CallFlow
from bot.channels.phone.hotline import Hotline, caller_number
from voice.telephony.call import (
    KEYS,
    CallChannel,
    CallTimings,
    Digit,
    Heard,
    HungUp,
    NoInput,
    Recognizer,
    Speech,
)
from voice.vad import has_speech

log = logging.getLogger("lianhu.phone.agi")
ROUTE = "lianhu"
HANGUP_ERRORS = {"AGIResultHangup", "AGIAppError", "AGIDeadChannelError", "AGIUnknownError"}
SILENCE_S = 2  # RECORD FILE stops after this much silence (Asterisk counts whole seconds)


class AgiChannel(CallChannel):
    """One Asterisk channel driven over FastAGI."""

    def __init__(self, request: Request, sounds_dir: Path, record_dir: Path) -> None:
        headers = request.headers
        self.request = request
        self.caller = caller_number(headers.get("agi_callerid", ""))
        self.call_id = headers.get("agi_uniqueid", "") or f"agi-{time.monotonic_ns()}"
        self.timings = CallTimings()
        self.sounds_dir, self.record_dir = sounds_dir, record_dir
        self._n = 0
        self._gone = False
        self.transfer_target = ""

    async def command(self, line: str) -> dict[str, Any]:
        """Send one AGI command; a dropped socket or a hang-up report raises HungUp."""
        if self._gone:
            raise HungUp(self.call_id)
        try:
            result: dict[str, Any] = await self.request.send_command(line)
        except (ConnectionError, ValueError, asyncio.IncompleteReadError, OSError) as err:
            self._gone = True
            raise HungUp(self.call_id) from err
        if result.get("error") in HANGUP_ERRORS:
            self._gone = True
            raise HungUp(self.call_id)
        return result

    async def _play(self, prompt: bytes) -> Digit | None:
        if not prompt:
            return None
        path = self._sound(prompt)
        if self.timings.pending_voice_end is not None:
            self.timings.reply_latencies.append(time.monotonic() - self.timings.pending_voice_end)
            self.timings.pending_voice_end = None
        result = await self.command(f'STREAM FILE {path} "{KEYS}"')
        return _digit(result)

    def _sound(self, pcm: bytes) -> Path:
        """Write the prompt where Asterisk can read it (named by content, so repeats reuse the file)."""
        name = hashlib.sha1(pcm).hexdigest()[:20]
        path = self.sounds_dir / name
        sln = path.with_suffix(".sln")
        if not sln.exists():
            self.sounds_dir.mkdir(parents=True, exist_ok=True)
            tmp = sln.with_suffix(".tmp")
            tmp.write_bytes(pcm)
            tmp.replace(sln)
        return path

    async def ask(
        self,
        prompt: bytes,
        *,
        speech: bool = True,
        no_input_s: float = 6.0,
        max_speech_s: float = 20.0,
        early: Recognizer | None = None,  # Asterisk hands over whole recordings: nothing to start early
        keep_on_hangup: bool = False,
        end_silence_ms: int | None = None,  # RECORD FILE counts whole seconds: SILENCE_S at least
        keep_buffered: bool = False,
    ) -> Heard:
        key = await self._play(prompt)
        if key is not None:
            return key
        if not speech:
            result = await self.command(f"WAIT FOR DIGIT {int(no_input_s * 1000)}")
            return _digit(result) or NoInput()
        # Each RECORD FILE ends after SILENCE_S of silence, so no input is that many silent tries.
        silence = max(SILENCE_S, round((end_silence_ms or 0) / 1000))
        for _ in range(max(1, round(no_input_s / silence))):
            self._n += 1
            base = self.record_dir / f"{self.call_id}-{self._n}"
            self.record_dir.mkdir(parents=True, exist_ok=True)
            try:
                result = await self.command(
                    f'RECORD FILE {base} wav "{KEYS}" {int(max_speech_s * 1000)} s={silence}'
                )
            except HungUp:
                # Asterisk keeps what it recorded up to the hang-up.
                pcm = _read_wav(Path(f"{base}.wav")) if keep_on_hangup else b""
                if pcm and has_speech(pcm, 8000):
                    return Speech(pcm, time.monotonic(), hung_up=True)
                raise
            key = _digit(result)
            if key is not None:
                return key
            pcm = _read_wav(Path(f"{base}.wav"))  # uniqueids hold a dot: no with_suffix
            if pcm and has_speech(pcm, 8000):
                self.timings.pending_voice_end = time.monotonic()
                return Speech(pcm, self.timings.pending_voice_end)
        return NoInput()

    async def say(self, prompt: bytes) -> Digit | None:
        return await self._play(prompt)

    async def transfer(self, target: str) -> bool:
        """Leave the number for the dialplan, which dials it once the AGI returns."""
        number = caller_number(target) or target
        await self.command(f'SET VARIABLE LIANHU_TRANSFER "{number}"')
        self.transfer_target = number
        self._gone = True  # the flow is over; the dialplan takes the call from here
        return True

    async def hangup(self) -> None:
        if self._gone:
            return
        with contextlib.suppress(HungUp):
            await self.command("HANGUP")
        self._gone = True


def _digit(result: dict[str, Any]) -> Digit | None:
    value = result.get("result", ("", ""))[0]
    try:
        code = int(value)
    except (TypeError, ValueError):
        return None
    return Digit(chr(code)) if code > 0 and chr(code) in KEYS else None


def _read_wav(path: Path) -> bytes:
    """Asterisk's recording (8 kHz mono wav); empty when it wrote nothing."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error):
        return b""


class AgiApplication(Application):  # type: ignore[misc]
    """panoramisk's Application with its early-disconnect bugs closed: a peer that drops before
    the blank line ending its variables no longer spins the handler forever."""

    async def handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers: OrderedDict[str, str] = OrderedDict()
        try:
            while True:
                raw = await asyncio.wait_for(reader.readline(), 10)
                if not raw:
                    raise ConnectionResetError("peer closed before its variables ended")
                line = raw.decode(self.default_encoding).rstrip("\r\n")
                if not line:
                    break
                name, sep, value = line.partition(": ")
                if sep:
                    headers[name] = value
            route = self._route.get(headers.get("agi_network_script", ""))
            if route is None:
                log.error("no FastAGI route for %r", headers.get("agi_network_script"))
                return
            await route(Request(self, headers, reader, writer, self.default_encoding))
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError) as err:
            log.info("FastAGI peer dropped early: %s", err)
        except Exception:
            log.exception("FastAGI request failed")
        finally:
            writer.close()


class AgiServer:
    """agi://host:port/lianhu runs the call flow for each Asterisk channel."""

    def __init__(self, hotline: Hotline, listen: str, sounds_dir: Path, record_dir: Path) -> None:
        self.hotline = hotline
        self.host, _, port = listen.rpartition(":")
        self.port = int(port)
        self.sounds_dir, self.record_dir = Path(sounds_dir), Path(record_dir)
        self.server: asyncio.Server | None = None
        self.app = AgiApplication(loop=asyncio.get_running_loop())
        self.app.add_route(ROUTE, self._serve)
        self.app.add_route(NOTICE_ROUTE, self._notice)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.app.handler, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        log.info("FastAGI listening on agi://%s:%d/%s", self.host, self.port, ROUTE)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _serve(self, request: Request) -> None:
        channel = AgiChannel(request, self.sounds_dir, self.record_dir)
        if not self.hotline.admit():
            try:
                await channel.say(await self.hotline.audio(self.hotline.render("error.busy")))
                await channel.hangup()
            except HungUp:
                pass
            return
        try:
            await CallFlow(self.hotline, channel).run()
        finally:
            self.hotline.release()

    async def _notice(self, request: Request) -> None:
        """An answered notice call Asterisk placed for us: the NoticeCaller reads the notice on it."""
        channel = AgiChannel(request, self.sounds_dir, self.record_dir)
        arg = request.headers.get("agi_arg_1", "")
        caller = self.hotline.caller
        taken = (
            arg.isascii()
            and arg.isdigit()
            and caller is not None
            and await caller.take_call(int(arg), channel)
        )
        if not taken:
            log.warning("FastAGI notice call for a receipt not being called: %r", arg[:20])
            await channel.hangup()
