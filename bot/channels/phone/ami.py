"""Notice calls through Asterisk (FastAGI deployments): the manager interface (AMI, via panoramisk)
originates the call, and once the resident answers, Asterisk runs our FastAGI route `notice` with
the receipt as its argument; the conversation is then the SIP line's, over the AGI channel.

    Action: Originate
    Channel: PJSIP/13800000502@trunk        phone.ami_channel
    Application: AGI
    Data: agi://127.0.0.1:4573/notice,42    phone.ami_agi, the receipt
    Timeout: 30000                          notices.call_ring_seconds
    CallerID: 联户小助手 <12345>              phone.ami_caller_id (when set)
    Async: true

Asterisk answers `Response: Success` (queued), then `Event: OriginateResponse` with the same ActionID:
`Response: Success` once answered (the AGI session follows), or `Failure` with a `Reason`
(5 busy; 3 no answer; 0, 1 and 8 failed, hung up, congestion: tried again like no answer).
The manager.conf user needs `write = originate` (and `read = call` for the event)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core.settings import PhoneSettings

log = logging.getLogger("lianhu.phone.ami")
NOTICE_ROUTE = "notice"
BUSY = "5"  # OriginateResponse Reason: AST_CONTROL_BUSY
LOGIN_SECONDS = 10.0


class AmiOriginator:
    """One manager connection (panoramisk reconnects it by itself) placing notice calls."""

    def __init__(self, phone: PhoneSettings, ring_seconds: float) -> None:
        self.phone = phone
        self.ring_seconds = ring_seconds
        self.manager: Any = None

    async def start(self) -> None:
        """Connect and log in. An Asterisk not up yet is not fatal: panoramisk keeps reconnecting, and
        calls placed meanwhile fail as "error" (their receipts are tried again later)."""
        from panoramisk import Manager

        loop = asyncio.get_running_loop()
        logged_in: asyncio.Future[None] = loop.create_future()

        def on_login(_manager: Any) -> None:
            if not logged_in.done():
                logged_in.set_result(None)

        self.manager = Manager(
            loop=loop,
            host=self.phone.ami_host,
            port=self.phone.ami_port,
            username=self.phone.ami_username,
            secret=self.phone.ami_secret,
            events="call",  # OriginateResponse is a call event; nothing else is needed
            on_login=on_login,
        )
        try:
            await self.manager.connect()
            await asyncio.wait_for(logged_in, LOGIN_SECONDS)
            log.info("Asterisk manager: logged in as %s", self.phone.ami_username)
        except (OSError, TimeoutError) as err:
            where = f"{self.phone.ami_host}:{self.phone.ami_port}"
            log.error("Asterisk manager at %s: not logged in (%s); retrying", where, type(err).__name__)

    @property
    def ready(self) -> bool:
        return self.manager is not None and bool(self.manager.authenticated)

    async def stop(self) -> None:
        if self.manager is not None:
            self.manager.close()
            self.manager = None

    def originate_action(self, number: str, receipt_id: int) -> dict[str, str]:
        """The Originate action for one notice call (its fields are the contract with the dialplan)."""
        action = {
            "Action": "Originate",
            "Channel": self.phone.ami_channel.format(number=number),
            "Application": "AGI",
            "Data": f"{self.phone.ami_agi.rstrip('/')}/{NOTICE_ROUTE},{receipt_id}",
            "Timeout": str(int(self.ring_seconds * 1000)),
            "Async": "true",
        }
        if self.phone.ami_caller_id:
            action["CallerID"] = self.phone.ami_caller_id
        return action

    async def originate(self, number: str, receipt_id: int) -> str:
        """Place the call: "answered" (the AGI session follows), "busy", "no_answer" or "error"."""
        if not self.ready:
            return "error"
        pending = self.manager.send_action(self.originate_action(number, receipt_id))
        try:
            replies = await asyncio.wait_for(pending, self.ring_seconds + 15)
        except TimeoutError:
            return "no_answer"
        if not isinstance(replies, list):  # refused at once: no permission, bad channel, not logged in
            log.warning("Originate refused: %s", replies.get("Message", ""))
            return "error"
        event = replies[-1]
        if event.get("Response") == "Success":
            return "answered"
        return "busy" if event.get("Reason") == BUSY else "no_answer"
