"""Micro-batching: `workers` threads own the recognizer; requests wait in one priority queue.

Whenever a worker is free it takes the most urgent request (incoming calls, then outbound calls,
then voice notes, then background work; oldest first) plus every queued request that can share its
batch (same group — beam and prompt length — and windows within `pad_s` of each other), up to
`batch_max`, and decodes them in one call. A lone request never waits for a window: whatever queued
while the previous batch ran forms the next one. Each worker has its own model replica and its share
of the model's threads, so inferences never oversubscribe the cores.

Measured on two cores (README): batching saves nothing there — the decoder's cost is mostly the
~300-token vocabulary prompt, which does not amortize across a batch, and a batched encoder costs
more per clip — while every request in a batch waits for the slowest. So `asr.batch_max` is 1 and
the gain comes from two one-thread workers (twice the throughput of one two-thread decode) and the
queue: calls first, no thread held per waiting request, abandoned guesses dropped undecoded.
Long clips (over SHORT_MAX_S) are decoded alone by a worker, at their priority.

Under load (`hurry_at` or more requests still waiting when a worker takes one) a request is decoded
greedily instead of with its beam: ten callers at once (`bench phone`, phone beam 2) got their replies in
p50 / p95 1.56 / 2.16 s always with the beam, 1.41 / 1.95 s hurried at 2 waiting (target 1.5 / 2.5 s).
A greedy reading has no n-best alternatives; it is what the phone used before the n-best, and its own
risk cues still reach understanding.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol, runtime_checkable

from voice.asr import Recognition

log = logging.getLogger(__name__)


class Priority(IntEnum):
    CALL = 0  # an incoming call: someone is waiting on the line
    OUTBOUND = 1  # a notice call we placed
    NOTE = 2  # a voice note (WeChat, Telegram, the web page)
    BACKGROUND = 3  # evaluation, reprocessing


class QueueFull(Exception):  # noqa: N818 - a refusal
    """More recognitions waiting than the queue holds."""


class Job(Protocol):
    @property
    def frames(self) -> int: ...

    @property
    def group(self) -> Hashable | None: ...  # None: never batched with another job

    def hurried(self) -> Job: ...  # the same work, cheaper (greedy)


@runtime_checkable
class BatchDecoder(Protocol):
    """A recognizer that splits work into a cheap plan (any thread) and a batched decode."""

    name: str

    def plan(self, pcm16k: bytes, hints: Sequence[str] = (), narrowband: bool = False) -> Any:
        """A Recognition when no model is needed (silence), else a Job for decode()."""

    def decode(self, jobs: Sequence[Any]) -> list[Recognition]:
        """One Recognition per job, in order."""


@dataclass(order=True)
class _Request:
    priority: int
    seq: int
    job: Any = field(compare=False)
    future: Future[Recognition] = field(compare=False)


class Batcher:
    """submit(job, priority) → a Future of its Recognition, decoded by the one worker thread."""

    def __init__(
        self,
        decoder: BatchDecoder,
        batch_max: int = 1,
        pad_s: float = 1.0,
        queue_max: int = 32,
        workers: int = 1,
        hurry_at: int = 0,
    ) -> None:
        self.decoder = decoder
        self.hurry_at = hurry_at  # 0: never
        self.workers = max(1, workers)
        self.batch_max = max(1, batch_max)
        self.pad_frames = int(pad_s * 100)
        self.queue_max = queue_max
        self._heap: list[_Request] = []
        self._running = 0
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.batch_sizes: list[int] = []  # every batch decoded, for benches and tests
        self.hurried = 0  # requests decoded greedily because the queue was long

    @property
    def pending(self) -> int:
        """Requests waiting or being decoded."""
        with self._cond:
            return len(self._heap) + self._running

    def submit(self, job: Any, priority: Priority = Priority.NOTE) -> Future[Recognition]:
        """Queue a job; QueueFull when `queue_max` are already pending (incoming calls are never
        refused here: the phone's own call limit bounds them)."""
        future: Future[Recognition] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("batcher closed")
            if priority > Priority.CALL and len(self._heap) + self._running >= self.queue_max:
                raise QueueFull(len(self._heap) + self._running)
            heapq.heappush(self._heap, _Request(int(priority), next(self._seq), job, future))
            if not self._threads:
                for i in range(self.workers):
                    thread = threading.Thread(target=self._work, name=f"asr-batcher-{i}", daemon=True)
                    thread.start()
                    self._threads.append(thread)
            self._cond.notify()
        return future

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(30)

    def _take(self) -> list[_Request]:
        """The most urgent request and the queued ones that can share its batch (lock held)."""
        batch: list[_Request] = []
        rest: list[_Request] = []
        low = high = 0
        for req in sorted(self._heap):
            if not batch:
                if req.future.set_running_or_notify_cancel():  # False: cancelled while waiting
                    batch.append(req)
                    low = high = req.job.frames
                continue
            group = batch[0].job.group
            frames = req.job.frames
            fits = (
                len(batch) < self.batch_max
                and group is not None
                and req.job.group == group
                and max(high, frames) - min(low, frames) <= self.pad_frames
            )
            if fits and req.future.set_running_or_notify_cancel():
                batch.append(req)
                low, high = min(low, frames), max(high, frames)
            elif not req.future.cancelled():
                rest.append(req)
        heapq.heapify(rest)
        self._heap = rest
        return batch

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._closed:
                    self._cond.wait()
                if self._closed and not self._heap:
                    return
                batch = self._take()
                self._running += len(batch)
                if batch and self.hurry_at and len(self._heap) >= self.hurry_at:
                    for req in batch:
                        req.job = req.job.hurried()
                    self.hurried += len(batch)
            outcomes: list[tuple[_Request, Recognition | BaseException]] = []
            try:
                if batch:
                    self.batch_sizes.append(len(batch))
                    outcomes = self._decode(batch)
            finally:
                with self._cond:
                    self._running -= len(batch)
            for req, outcome in outcomes:  # after `pending` dropped: a caller woken sees it so
                if isinstance(outcome, BaseException):
                    req.future.set_exception(outcome)
                else:
                    req.future.set_result(outcome)

    def _decode(self, batch: list[_Request]) -> list[tuple[_Request, Recognition | BaseException]]:
        try:
            results = self.decoder.decode([r.job for r in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} jobs")
        except Exception as err:  # noqa: BLE001 - one bad request must not lose the others: each alone
            if len(batch) == 1:
                return [(batch[0], err)]
            log.warning("batch of %d failed; decoding each alone", len(batch), exc_info=True)
            return [outcome for req in batch for outcome in self._decode([req])]
        return list(zip(batch, results, strict=True))
