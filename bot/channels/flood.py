"""Telegram's flood limits: about 1 message/s per chat and 30 messages/s overall.

One limiter books send slots for both paths: replies sent by python-telegram-bot (through
`PtbFloodLimiter`) and outbox deliveries sent from the dispatcher's thread (`reserve` + sleep).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

SEND_ENDPOINTS = frozenset(
    {
        "sendMessage",
        "sendVoice",
        "sendAudio",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "copyMessage",
        "forwardMessage",
    }
)


class FloodLimiter:
    """Books evenly spaced slots: thread-safe, shared by async and blocking senders."""

    def __init__(
        self, per_chat_rate: float = 1.0, global_rate: float = 30.0, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.chat_gap = 1.0 / per_chat_rate
        self.global_gap = 1.0 / global_rate
        self.now = now
        self._lock = threading.Lock()
        self._global_next = 0.0
        self._chat_next: dict[str, float] = {}

    def reserve(self, chat_id: str | None) -> float:
        """Take the next free slot for this chat; returns the seconds to wait before sending."""
        with self._lock:
            now = self.now()
            turn = max(now, self._global_next)  # a chat waiting for its own slot does not hold up the others
            self._global_next = turn + self.global_gap
            slot = turn
            if chat_id is not None:
                slot = max(turn, self._chat_next.get(chat_id, 0.0))
                self._chat_next[chat_id] = slot + self.chat_gap
            if len(self._chat_next) > 10_000:
                self._chat_next = {k: v for k, v in self._chat_next.items() if v > now}
            return slot - now

    def wait(self, chat_id: str | None) -> None:
        delay = self.reserve(chat_id)
        if delay > 0:
            time.sleep(delay)


def retry_seconds(err: RetryAfter) -> float:
    value = err.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PtbFloodLimiter(BaseRateLimiter[int]):
    """python-telegram-bot's rate-limiter hook over a FloodLimiter; honours RetryAfter twice."""

    def __init__(self, limiter: FloodLimiter, max_retries: int = 2) -> None:
        self.limiter = limiter
        self.max_retries = max_retries

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint in SEND_ENDPOINTS:
            chat = data.get("chat_id")
            delay = self.limiter.reserve(None if chat is None else str(chat))
            if delay > 0:
                await asyncio.sleep(delay)
        for attempt in range(self.max_retries + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as err:
                if attempt == self.max_retries:
                    raise
                await asyncio.sleep(retry_seconds(err))
        raise AssertionError("unreachable")
