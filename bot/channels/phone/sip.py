"""The SIP endpoint: baresip-python answers calls on the configured address (a thin wrapper: the
library is alpha, so everything it offers is reached through this one file).

Each call becomes a `SipChannel` (frames in and out through baresip's `aumem` driver, keys from RFC
2833 events) driven by a `CallFlow`. Over the call limit the caller hears the busy prompt; the stack
itself refuses (486) a few calls further on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels.phone.flow import CallFlow
from bot.channels.phone.hotline import Hotline, caller_number
from voice.telephony.call import FRAME_BYTES
from voice.telephony.framed import FramedChannel

log = logging.getLogger("lianhu.phone.sip")
BUSY_MARGIN = 4  # calls past the limit that still hear the busy prompt instead of a bare 486


class SipChannel(FramedChannel):
    """One baresip call as a framed channel."""

    def __init__(self, call: Any, caller: str, *, end_silence_ms: int = 600, early_ms: int = 250) -> None:
        super().__init__(
            caller,
            call.call_id or f"sip-{call.handle:x}",
            end_silence_ms=end_silence_ms,
            early_ms=early_ms,
        )
        self.call = call
        call.on_dtmf(lambda event: self.press(event.digit))

    def _audio(self, op: Callable[[Any], Any], default: Any) -> Any:
        import baresip

        try:
            return op(self.call.audio)
        except baresip.AudioRestarted:  # re-INVITE replaced the streams: the next tick binds anew
            return default
        except baresip.AudioNotActive:
            return default

    def _read(self) -> bytes:
        return bytes(self._audio(lambda a: a.read(FRAME_BYTES * 50), b""))

    def _write(self, pcm: bytes) -> int:
        return int(self._audio(lambda a: a.write(pcm), 0))

    def _queued(self) -> int:
        return int(self._audio(lambda a: a.info().tx_buffered, 0))

    def _flush(self) -> None:
        self._audio(lambda a: a.flush_tx(), None)

    def _closed(self) -> bool:
        return bool(self.call.state.name == "CLOSED")

    async def transfer(self, target: str) -> bool:
        import baresip

        try:
            await self.call.transfer(target, timeout=20.0)
        except (baresip.TransferFailed, baresip.BaresipError, ValueError) as err:
            log.info("transfer of %s to %s failed: %s", self.call_id, target, err)
            return False
        return True

    async def hangup(self) -> None:
        import baresip

        if not self._closed():
            with contextlib.suppress(baresip.BaresipError):
                await self.call.hangup()


class SipEndpoint:
    """Listens on `listen` (host:port) and runs a call flow per answered call."""

    def __init__(
        self,
        hotline: Hotline,
        listen: str,
        *,
        user: str = "lianhu",
        flow: Callable[[Hotline, SipChannel], Awaitable[Any]] | None = None,
    ) -> None:
        self.hotline = hotline
        self.host, _, port = listen.rpartition(":")
        self.port = int(port)
        self.user = user
        self.flow = flow or (lambda hl, ch: CallFlow(hl, ch).run())
        self.runtime: Any = None
        self.ua: Any = None
        self.tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        from baresip import Account, Config, Runtime, UserAgent

        config = Config(
            net_interface=self.host,
            max_concurrent_calls=self.hotline.max_calls
            + BUSY_MARGIN
            + self.hotline.app.settings.phone.outbound_max_calls,
            rtp_timeout=120,  # a peer silent on RTP this long is gone (callers on hold still send RTP)
            extra_config_text=f"sip_listen {self.host}:{self.port}\n",
        )
        self.runtime = Runtime()
        await self.runtime.start(config)
        account = Account(
            user=self.user,
            domain=f"{self.host}:{self.port}",
            password="",
            reg_interval=0,
            audio_codecs=("pcmu", "pcma"),
        )
        self.ua = await UserAgent.create(self.runtime, account)
        self.ua.on_incoming(self._incoming)
        log.info("phone line listening on sip:%s@%s:%d", self.user, self.host, self.port)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.runtime is not None:
            await self.runtime.close()
            self.runtime = None

    def _incoming(self, call: Any) -> None:
        task = asyncio.ensure_future(self._serve(call))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _serve(self, call: Any) -> None:
        phone = self.hotline.settings
        channel = SipChannel(
            call,
            caller_number(call.peer),
            end_silence_ms=phone.end_silence_ms,
            early_ms=phone.early_recognition_ms,
        )
        admitted = self.hotline.admit()
        try:
            await call.answer()
            await call.wait_established(timeout=10.0)
            if not admitted:
                log.warning("line full (%d calls): busy prompt for %s", self.hotline.active, channel.call_id)
                await channel.say(await self.hotline.audio(self.hotline.render("error.busy")))
                await channel.hangup()
                return
            await self.flow(self.hotline, channel)
        except Exception as err:  # noqa: BLE001 - one broken call must not take the endpoint down
            if type(err).__name__ != "HungUp":
                log.warning("call %s ended with %s: %s", channel.call_id, type(err).__name__, err)
            await channel.hangup()
        finally:
            if admitted:
                self.hotline.release()
