"""Wiring: settings → database, catalogs, understanding, engine, dispatcher. Built once per process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.engine import Answer, Engine, Parser, Renderer, ShortTextCache
from bot.messages import Inbound
from bot.notify import Dispatcher, Sender
from bot.render import StringCatalog
from bot.settings import Settings
from data.catalog import DemandCatalog
from data.clock import Clock, SystemClock
from data.db import Database
from data.services import ServiceContext
from data.services.scheduler import SchedulerReport, run_due

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


@dataclass
class App:
    settings: Settings
    db: Database
    catalog: DemandCatalog
    strings: StringCatalog
    engine: Engine
    dispatcher: Dispatcher
    clock: Clock
    extras: dict[str, Any] = field(default_factory=dict)  # channel adapters, voice service

    def context(self, session: Any) -> ServiceContext:
        return self.engine.context(session)

    async def turn(self, inbound: Inbound, **options: Any) -> Answer:
        """One engine turn. On SQLite, when no one else is writing, the turn runs right here on the
        event loop: a turn is ~2 ms of Python, and handing it to a thread costs about as much again in
        GIL hand-overs (SQLite releases the GIL on every statement). Otherwise it waits its turn on a
        worker thread, never blocking the loop."""
        if self.db.try_write_lock():
            try:
                return self.engine.handle(inbound, **options)
            finally:
                self.db.release_write_lock()
        return await asyncio.to_thread(self.engine.handle, inbound, **options)

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
    strings = StringCatalog.load(settings.path(settings.paths.strings))
    parser = parser or load_parser(settings, catalog_path)
    engine = Engine(settings, db, parser, catalog, strings, clock)
    dispatcher = Dispatcher(db, engine.renderer, clock, settings.outbox)
    return App(settings, db, catalog, strings, engine, dispatcher, clock)


def build_dispatcher(settings: Settings, clock: Clock | None = None) -> Dispatcher:
    """An outbox worker on its own (python -m bot dispatch): no understanding model needed."""
    db = Database(settings.database.url, settings.database.echo, settings.root)
    db.migrate()
    renderer = Renderer(StringCatalog.load(settings.path(settings.paths.strings)))
    return Dispatcher(db, renderer, clock or SystemClock(), settings.outbox)


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
    s = settings
    try:
        with db.session() as session:
            yield ServiceContext(
                session, clock or SystemClock(), catalog, s.deadlines, s.emergency, s.alerts, s.outbox
            )
    finally:
        db.dispose()
