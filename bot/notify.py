"""The outbox dispatcher: delivers queued notifications through each recipient's channel.

Local channels (the web page, the workbench, demo and console identities) deliver by writing to the identity's inbox
in the same transaction that marks the row sent: exactly once, even with several workers. Remote
channels (WeChat, Telegram) are sent after the row is leased and marked sent right after; a failure
is retried with exponential backoff and one channel being down never blocks the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from core.messages import Choice, Reply
from core.render import OutMessage, Renderer
from core.settings import OutboxSettings
from data.clock import Clock
from data.db import Database
from data.models import Identity, PushedMessage, Ticket
from data.services.outbox import Delivery, claim_batch, mark_failed, mark_sent

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger("lianhu.notify")
LOCAL_CHANNELS = frozenset({"demo", "web", "console", "api", "workbench"})


class Undeliverable(Exception):
    """This identity cannot receive pushed messages at all (for example a phone caller)."""


class Sender(Protocol):
    def deliver(self, external_id: str, message: OutMessage, delivery: Delivery) -> None:
        """Send one message; raise on failure (it will be retried)."""


@dataclass
class DispatchStats:
    sent: int = 0
    failed: int = 0


class Dispatcher:
    def __init__(
        self,
        db: Database,
        renderer: Renderer,
        clock: Clock,
        settings: OutboxSettings,
        senders: dict[str, Sender] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.renderer = renderer
        self.clock = clock
        self.settings = settings
        self.senders: dict[str, Sender] = dict(senders or {})
        self.metrics = metrics

    def render(self, d: Delivery) -> OutMessage:
        if not d.text_key:  # a machine's payload (an integrator's webhook): params are sent as they are
            return OutMessage("")
        choices = tuple(Choice(c[0], key=c[1] or None, text=c[2] if len(c) > 2 else None) for c in d.choices)
        return self.renderer.render(Reply(d.text_key, d.params, choices))

    def run_once(self) -> DispatchStats:
        """Claim one batch and deliver it. Returns what happened."""
        stats = DispatchStats()
        remote: list[tuple[Delivery, str]] = []
        local: list[str] = []
        with self.db.session() as s:
            now = self.clock.now()
            for d in claim_batch(s, now, self.settings.batch_size):
                if d.channel in LOCAL_CHANNELS:
                    self._deliver_local(s, d, now)
                    local.append(d.channel)
                else:
                    ident = s.get(Identity, d.identity_id)
                    remote.append((d, ident.external_id if ident else ""))
        stats.sent += len(local)
        if self.metrics is not None:
            for channel in local:
                self.metrics.delivered(channel)
        for d, external_id in remote:
            self._deliver_remote(d, external_id, stats)
        return stats

    def _deliver_local(self, s, d: Delivery, now) -> None:  # type: ignore[no-untyped-def]
        msg = self.render(d)
        ticket_no = s.get(Ticket, d.ticket_id).public_no if d.ticket_id else None
        s.add(
            PushedMessage(
                identity_id=d.identity_id,
                outbox_id=d.id,
                created_at=now,
                text=msg.text,
                choices=[list(c) for c in msg.choices],
                ticket_no=ticket_no,
            )
        )
        mark_sent(s, d.id, now)

    def _deliver_remote(self, d: Delivery, external_id: str, stats: DispatchStats) -> None:
        sender = self.senders.get(d.channel)
        try:
            if sender is None:
                raise Undeliverable(f"no sender for channel {d.channel}")
            sender.deliver(external_id, self.render(d), d)
        except Exception as err:  # noqa: BLE001 - any channel failure is retried, never fatal
            stats.failed += 1
            if self.metrics is not None:
                self.metrics.delivery_failed(d.channel)
            final = isinstance(err, Undeliverable)
            log.warning(
                "delivery %s via %s failed (attempt %s): %s", d.id, d.channel, d.attempts, type(err).__name__
            )
            with self.db.session() as s:
                mark_failed(
                    s,
                    d.id,
                    self.clock.now(),
                    f"{type(err).__name__}: {err}",
                    attempts=self.settings.max_attempts if final else d.attempts,
                    max_attempts=self.settings.max_attempts,
                    base_seconds=self.settings.backoff_base_seconds,
                )
            return
        with self.db.session() as s:
            mark_sent(s, d.id, self.clock.now())
        stats.sent += 1
        if self.metrics is not None:
            self.metrics.delivered(d.channel)

    def drain(self, limit: int = 100) -> DispatchStats:
        """Deliver everything due now (tests, CLI)."""
        total = DispatchStats()
        for _ in range(limit):
            stats = self.run_once()
            total.sent += stats.sent
            total.failed += stats.failed
            if stats.sent + stats.failed == 0:
                break
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                stats = await asyncio.to_thread(self.run_once)
            except Exception:  # noqa: BLE001 - keep the worker alive; the row stays queued
                log.exception("dispatcher pass failed")
                stats = DispatchStats()
            if stats.sent + stats.failed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_seconds)
