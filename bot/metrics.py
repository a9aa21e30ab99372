"""/metrics: what an operator graphs and alerts on, in the Prometheus text format.

Counted where it happens, for almost nothing on a turn's path (a dictionary look-up and two
increments): turns by channel and action, turn and understanding latency, recognition latency and
queue, deliveries sent and failed, calls in progress. Read from the database when scraped: the
outbox's backlog and its oldest due message, open and unacknowledged emergencies.

Several processes (server workers, dispatchers) use prometheus-client's multiprocess mode: each
process writes its figures to its own memory-mapped files in one shared folder and a scrape, which
any worker may answer, adds them up (see `bot.processes.share_metrics`). One process keeps them in
memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import hmac
import ipaddress
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from core.settings import MetricsSettings

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("lianhu.metrics")
FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SLOW = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


class Metrics:
    """This process's instruments. One set per process (`process_metrics`): in multiprocess mode two
    sets in one process would write the same keys of the same files."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.turns = Counter("lianhu_turns", "Turns answered, by channel and action", ("channel", "action"), registry=r)  # fmt: skip
        self.turn_seconds = Histogram(
            "lianhu_turn_seconds", "Time to answer a turn, waiting for the database included", ("channel",),
            buckets=FAST, registry=r,
        )  # fmt: skip
        self.understanding_seconds = Histogram(
            "lianhu_understanding_seconds", "Time to understand one message", buckets=FAST, registry=r
        )
        self.recognition_seconds = Histogram(
            "lianhu_recognition_seconds", "Speech recognition, waiting for a slot included", buckets=SLOW, registry=r
        )  # fmt: skip
        self.recognition_queue = Gauge(
            "lianhu_recognition_queue", "Recognitions running or waiting for a slot", registry=r,
            multiprocess_mode="livesum",
        )  # fmt: skip
        self.deliveries = Counter("lianhu_deliveries", "Outbox messages delivered", ("channel",), registry=r)
        self.deliveries_failed = Counter(
            "lianhu_deliveries_failed", "Failed delivery attempts (retried later, or given up)", ("channel",),
            registry=r,
        )  # fmt: skip
        self.calls = Gauge(
            "lianhu_calls_in_progress", "Phone calls in progress", registry=r, multiprocess_mode="livesum"
        )
        self.refusals = Counter(
            "lianhu_refused", "Requests refused at the edge (replays, limits, bad tokens), by where and why",
            ("where", "reason"), registry=r,
        )  # fmt: skip
        self._turn: dict[tuple[str, str], tuple[Any, Any]] = {}

    def turn(self, channel: str, action: str, seconds: float, understanding: float | None = None) -> None:
        pair = self._turn.get((channel, action))
        if pair is None:
            pair = self._turn[(channel, action)] = (
                self.turns.labels(channel, action),
                self.turn_seconds.labels(channel),
            )
        pair[0].inc()
        pair[1].observe(seconds)
        if understanding is not None:
            self.understanding_seconds.observe(understanding)

    def refused(self, where: str, reason: str) -> None:
        self.refusals.labels(where, reason).inc()

    def delivered(self, channel: str, count: int = 1) -> None:
        self.deliveries.labels(channel).inc(count)

    def delivery_failed(self, channel: str) -> None:
        self.deliveries_failed.labels(channel).inc()

    def calls_in_progress(self, count: int) -> None:
        self.calls.set(count)

    # voice.service.RecognitionObserver
    def recognition_waiting(self, count: int) -> None:
        self.recognition_queue.set(count)

    def recognized(self, seconds: float) -> None:
        self.recognition_seconds.observe(seconds)


_PROCESS: Metrics | None = None


def process_metrics() -> Metrics:
    global _PROCESS
    if _PROCESS is None:
        _PROCESS = Metrics()
    return _PROCESS


def shared_dir() -> str | None:
    """The multiprocess folder when this process writes its figures there (bot.processes.share_metrics)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class DatabaseFigures:
    """Gauges read from the database at scrape time (a collector built for one scrape)."""

    def __init__(self, app: App) -> None:
        from data.services.health import emergency_figures, outbox_figures

        self.up = 1.0
        try:
            with app.db.session() as s:
                now = app.clock.now()
                self.outbox, self.emergencies = outbox_figures(s, now), emergency_figures(s, now)
        except Exception:  # noqa: BLE001 - a scrape reports the database as down instead of failing
            log.exception("metrics: the database could not be read")
            self.up = 0.0

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("lianhu_database_up", "1 when the database answered this scrape", self.up)
        if not self.up:
            return
        o, e = self.outbox, self.emergencies
        for name, doc, value in (
            ("lianhu_outbox_pending", "Messages not yet delivered (due or waiting to retry)", o.pending),
            ("lianhu_outbox_due", "Messages due for delivery now", o.due),
            (
                "lianhu_outbox_oldest_due_seconds",
                "How long the longest-waiting due message has waited",
                o.oldest_due_seconds,
            ),  # noqa: E501
            ("lianhu_outbox_dead", "Messages given up after outbox.max_attempts", o.dead),
            ("lianhu_emergencies_open", "Emergencies still needing someone to act", e.open),
            ("lianhu_emergencies_unacknowledged", "Emergencies nobody has taken yet", e.unacknowledged),
            (
                "lianhu_emergency_oldest_unacknowledged_seconds",
                "Age of the oldest unacknowledged emergency",
                e.oldest_unacknowledged_seconds,
            ),  # noqa: E501
        ):
            yield GaugeMetricFamily(name, doc, float(value))


def exposition(app: App) -> bytes:
    """The whole page: every process's instruments (or this one's) and the database's gauges."""
    folder = shared_dir()
    if folder:
        forget_dead_gauges(folder)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, folder)
        page = generate_latest(registry)
    else:
        page = generate_latest(app.metrics.registry)
    database = CollectorRegistry()
    database.register(DatabaseFigures(app))  # type: ignore[arg-type]
    return page + generate_latest(database)


def forget_dead_gauges(folder: str) -> None:
    """Live gauges (calls, recognition queue) of a process that died without saying so."""
    for path in glob.glob(os.path.join(folder, "gauge_live*_*.db")):
        pid = _pid_of(path)
        if pid is not None and not _alive(pid):
            mark_process_dead(pid, folder)


def forget_dead_processes(folder: str) -> None:
    """At start: drop every file of a process that is gone, counters included (a counter reset, which
    Prometheus expects after a restart), so the folder does not grow with every restart."""
    for path in glob.glob(os.path.join(folder, "*.db")):
        pid = _pid_of(path)
        if pid is not None and not _alive(pid):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


def _pid_of(path: str) -> int | None:
    stem = os.path.basename(path)[: -len(".db")]
    tail = stem.rpartition("_")[2]
    return int(tail) if tail.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def allowed(request: Request, settings: MetricsSettings) -> bool:
    """With a token: the right bearer token, from anywhere. Without: loopback only, and not through a
    reverse proxy (which connects from loopback too but says who it forwards)."""
    if settings.token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), settings.token.encode()
        )
    if not settings.localhost_only:
        return True
    if any(h in request.headers for h in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.client.host if request.client else "").is_loopback
    except ValueError:
        return False


def mount(api: FastAPI, app: App) -> None:
    """Add GET /metrics (when metrics.enabled)."""
    settings = app.settings.metrics
    if not settings.enabled:
        return

    async def metrics(request: Request) -> Response:
        if not allowed(request, settings):
            why = (
                "bearer token required"
                if settings.token
                else "only from this machine (or set LIANHU_METRICS_TOKEN)"
            )
            return PlainTextResponse(why, status_code=401 if settings.token else 403)
        page = await asyncio.to_thread(exposition, app)
        return Response(page, media_type=CONTENT_TYPE_LATEST)

    api.add_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
