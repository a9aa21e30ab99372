"""Wiring: settings → database, catalogs, understanding, engine, dispatcher. Built once per process."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.engine import Answer, Engine, Parser, ShortTextCache
from bot.guard import Guards
from bot.metrics import Metrics, process_metrics
from bot.notify import Dispatcher, Sender
from core.catalog import DemandCatalog
from core.messages import Inbound, Reply
from core.render import StringCatalog
from core.settings import Settings
from data.clock import Clock, SystemClock
from data.db import Database
from data.resources import ResourceCatalog
from data.services import ServiceContext
from data.services.scheduler import SchedulerReport, run_due

if TYPE_CHECKING:
    from bot.channels.phone.hotline import Hotline
    from bot.channels.speech import SpeechBridge
    from voice.service import VoiceService

log = logging.getLogger("lianhu")


def load_parser(settings: Settings, catalog_path: str) -> Parser:
    """The configured understanding backend (built-in classifier, or a Rasa server)."""
    if settings.nlu.backend == "rasa":
        from nlu.rasa import RasaParser

        return RasaParser(settings.nlu.rasa_url, settings.nlu.rasa_timeout_seconds, catalog_path)
    from nlu import load_parser as load_builtin

    return ShortTextCache(
        load_builtin(
            catalog_path,
            settings.path(settings.paths.nlu_training),
            settings.path(settings.paths.nlu_model_cache),
        )
    )


Hook = Callable[[], Awaitable[Any]]


@dataclass
class App:
    settings: Settings
    db: Database
    catalog: DemandCatalog
    strings: StringCatalog
    engine: Engine
    dispatcher: Dispatcher
    clock: Clock
    # Wired at start-up by the server and the channels that need them.
    voice: VoiceService | None = None  # speech models (loaded in the background, or on first use)
    speech: SpeechBridge | None = None  # voice notes in, spoken replies out, for the chat channels
    hotline: Hotline | None = None  # the phone line, when it runs in this process
    wechat: Any = None  # the WeChat adapter (bot.channels.wechat.WechatAdapter)
    telegram: Any = None  # the python-telegram-bot Application
    startup: list[Hook] = field(default_factory=list)  # run when the server starts
    shutdown: list[Hook] = field(default_factory=list)  # run when it stops
    metrics: Metrics = field(default_factory=process_metrics)
    guards: Guards = field(default_factory=Guards)

    def limited(self, what: str, channel: str = "", external: str = "") -> None:
        """Audit a refusal by an in-process limit (once per sender and window: the caller decides)."""
        from data.services.abuse import record_refusal

        with self.db.session() as s:
            record_refusal(self.context(s), what, channel, external)

    def context(self, session: Any) -> ServiceContext:
        return self.engine.context(session)

    async def turn(
        self, inbound: Inbound, *, unverified_caller: bool = False, late_after: float | None = None
    ) -> Answer:
        """One engine turn. On SQLite, when no one else is writing, the turn runs right here on the
        event loop: a turn is ~2 ms of Python, and handing it to a thread costs about as much again in
        GIL hand-overs (SQLite releases the GIL on every statement). Otherwise it waits its turn on a
        worker thread, never blocking the loop."""
        over = self.guards.turns.hit(f"{inbound.channel}:{inbound.sender_ref}")
        if over:
            self.metrics.refused(inbound.channel, "chat_turns")
            if over == 1:  # one audit entry per sender and window, not one per flooded message
                await asyncio.to_thread(self.limited, "chat turns", inbound.channel, inbound.sender_ref)
            return Answer([self.engine.render(Reply("guard.slow_down"))], action="rate_limited")
        handle = functools.partial(
            self.engine.handle, inbound, unverified_caller=unverified_caller, late_after=late_after
        )
        t0 = time.perf_counter()
        try:
            if self.db.try_write_lock():
                try:
                    answer = handle()
                finally:
                    self.db.release_write_lock()
            else:
                answer = await asyncio.to_thread(handle)
        except Exception:
            self.metrics.turn(inbound.channel, "error", time.perf_counter() - t0)
            raise
        action = answer.action or ("duplicate" if answer.duplicate else "none")
        self.metrics.turn(inbound.channel, action, time.perf_counter() - t0, answer.timings.get("nlu"))
        return answer

    def load_voice(self, warm: bool = False) -> VoiceService:
        """Load the speech models (blocking; run it in a thread) and keep them as app.voice."""
        from voice.service import build_voice_service

        self.voice = build_voice_service(self.settings, warm=warm, observer=self.metrics)
        return self.voice

    def run_scheduler_once(self) -> SchedulerReport:
        with self.db.session() as s:
            return run_due(self.context(s))

    def add_sender(self, channel: str, sender: Sender) -> None:
        self.dispatcher.senders[channel] = sender


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    parser: Parser | None = None,
    migrate: bool = True,
    db: Database | None = None,
) -> App:
    clock = clock or SystemClock()
    db = db or Database(settings.database.url, settings.database.echo, settings.root)
    if migrate:
        db.migrate()
    catalog_path = str(settings.path(settings.paths.catalog))
    catalog = DemandCatalog.load(catalog_path)
    resources = ResourceCatalog.load(settings.path(settings.paths.resources), catalog)
    strings = StringCatalog.load(settings.path(settings.paths.strings))
    parser = parser or load_parser(settings, catalog_path)
    engine = Engine(settings, db, parser, catalog, strings, clock, resources)
    metrics = process_metrics()
    dispatcher = Dispatcher(db, engine.renderer, clock, settings.outbox, metrics=metrics)
    app = App(
        settings,
        db,
        catalog,
        strings,
        engine,
        dispatcher,
        clock,
        metrics=metrics,
        guards=Guards(settings.limits),
    )
    from bot.open311 import register_sender

    register_sender(app)  # integrators' webhooks go out through every dispatcher
    return app


class LazyParser:
    """The understanding model, loaded the first time something asks (never, in a dispatcher)."""

    def __init__(self, settings: Settings, catalog_path: str) -> None:
        self._load = functools.partial(load_parser, settings, catalog_path)
        self._parser: Parser | None = None

    def parse(self, text: str) -> Any:
        if self._parser is None:
            self._parser = self._load()
        return self._parser.parse(text)


def build_dispatcher(settings: Settings, clock: Clock | None = None) -> Dispatcher:
    """An outbox worker on its own (python -m bot dispatch): the senders of the configured remote
    channels (WeChat, WeCom, Telegram), without their routes and without the understanding model."""
    from bot.channels import register_senders

    catalog_path = str(settings.path(settings.paths.catalog))
    app = build_app(settings, clock=clock, parser=LazyParser(settings, catalog_path))
    register_senders(app)
    return app.dispatcher


def load_demo_if_empty(app: App) -> bool:
    from data.demo import is_empty, load_demo

    with app.db.session() as s:
        ctx = app.context(s)
        if not is_empty(ctx):
            return False
        load_demo(ctx, app.settings.community_name)
    log.info("demo community loaded")
    return True


@contextlib.contextmanager
def service_context(settings: Settings, clock: Clock | None = None) -> Iterator[ServiceContext]:
    """A unit of work for command-line tools that need the data services but not the engine."""
    db = Database(settings.database.url, settings.database.echo, settings.root)
    db.migrate()
    catalog = DemandCatalog.load(settings.path(settings.paths.catalog))
    resources = ResourceCatalog.load(settings.path(settings.paths.resources), catalog)
    strings = StringCatalog.load(settings.path(settings.paths.strings))
    try:
        with db.session() as session:
            yield ServiceContext.build(session, clock or SystemClock(), catalog, strings, settings, resources)
    finally:
        db.dispose()
