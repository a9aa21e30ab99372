"""Abuse limits kept in this process: counters in fixed windows and gates for scarce work.

Soft state: with N server workers a limit holds per worker (up to N times overall), which still
bounds what one sender can cost. What must hold across processes (replays, binding requests, proxy
reports) is counted in the database instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

from core.settings import LimitSettings


class Busy(Exception):  # noqa: N818 - a refusal, answered "busy, try again"
    """No room for this work now."""


class Window:
    """At most `limit` hits per key in each `seconds` window (fixed windows, bounded memory)."""

    def __init__(self, limit: int, seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.seconds, self.now = limit, seconds, now
        self._hits: dict[str, tuple[float, int]] = {}  # key -> (window start, hits in it)

    def hit(self, key: str) -> int:
        """Count one hit; returns how far over the limit this hit is (0: allowed, 1: the first one past)."""
        now = self.now()
        start, count = self._hits.get(key, (now, 0))
        if now - start >= self.seconds:
            start, count = now, 0
        count += 1
        self._hits[key] = (start, count)
        if len(self._hits) > 50_000:
            self._hits = {k: v for k, v in self._hits.items() if now - v[0] < self.seconds}
        return max(0, count - self.limit)

    def over(self, key: str) -> bool:
        """True when this key has used up its window (without counting a hit)."""
        start, count = self._hits.get(key, (0.0, 0))
        return self.now() - start < self.seconds and count >= self.limit


class Gate:
    """Work in flight: at most `per_key` for one key and `overall` at once, `queue` more waiting."""

    def __init__(self, overall: int, per_key: int, queue: int) -> None:
        self.per_key, self.queue = per_key, queue
        self._slots = asyncio.Semaphore(overall)
        self._overall = overall
        self._keys: dict[str, int] = {}
        self._inside = 0  # running or waiting

    @contextlib.asynccontextmanager
    async def enter(self, key: str = "") -> AsyncIterator[None]:
        if (key and self._keys.get(key, 0) >= self.per_key) or self._inside >= self._overall + self.queue:
            raise Busy(key)
        self._inside += 1
        if key:
            self._keys[key] = self._keys.get(key, 0) + 1
        try:
            async with self._slots:
                yield
        finally:
            self._inside -= 1
            if key:
                left = self._keys.pop(key) - 1
                if left:
                    self._keys[key] = left


class AudioCache:
    """Rendered audio by what was said, least recently used out first, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._size = 0

    def get(self, key: tuple[str, str]) -> bytes | None:
        audio = self._items.get(key)
        if audio is not None:
            self._items.move_to_end(key)
        return audio

    def put(self, key: tuple[str, str], audio: bytes) -> None:
        if len(audio) > self.max_bytes // 4 or key in self._items:
            return
        self._items[key] = audio
        self._size += len(audio)
        while self._size > self.max_bytes:
            _, old = self._items.popitem(last=False)
            self._size -= len(old)


class Guards:
    """The in-process limits of one server process."""

    def __init__(self, limits: LimitSettings | None = None) -> None:
        lim = limits or LimitSettings()
        self.turns = Window(lim.chat_turns_per_minute, 60.0)  # per person
        self.bad_tokens = Window(lim.failed_tokens_per_minute, 60.0)  # per source address
