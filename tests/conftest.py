"""Shared fixtures: a real database (SQLite, and PostgreSQL when LIANHU_TEST_DATABASE_URL is set),
the demo community, a controllable clock, and the real understanding model loaded once per session."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import App, build_app, load_demo_if_empty
from core.messages import Inbound
from core.settings import Settings, load_settings
from data.clock import ManualClock
from data.db import Database, normalize_url

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("LIANHU_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def parser():  # type: ignore[no-untyped-def]
    """The real built-in classifier, trained/cached once per test session."""
    from nlu import load_parser

    return load_parser(
        ROOT / "data/catalog/demands.yaml", ROOT / "nlu/training", ROOT / "var/cache/nlu-model.pkl"
    )


def reset_postgres(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("LIANHU_TEST_DATABASE_URL not set")
        reset_postgres(normalize_url(PG_URL))
        return normalize_url(PG_URL)
    return f"sqlite:///{tmp_path / 'lianhu.db'}"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        ROOT / "config.yaml",
        environ={
            "LIANHU_DATABASE_URL": db_url,
            "LIANHU_PATHS_VAR_DIR": str(tmp_path / "var"),
            "LIANHU_PATHS_RECORDINGS": str(tmp_path / "var/recordings"),
        },
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(settings: Settings, clock: ManualClock, parser) -> Iterator[App]:  # type: ignore[no-untyped-def]
    application = build_app(settings, clock=clock, parser=parser)
    load_demo_if_empty(application)
    yield application
    application.db.dispose()


class Chat:
    """Talk to the engine as one identity, like a channel adapter would."""

    _ids = itertools.count(1)

    def __init__(self, app: App, ref: str) -> None:
        self.app = app
        self.channel, _, self.external = ref.partition(":")

    def say(self, text: str, msg_id: str | None = None, unverified: bool = False, **inbound: object) -> str:
        answer = self.app.engine.handle(
            Inbound(self.channel, self.external, msg_id or f"t{next(self._ids)}", text, **inbound),  # type: ignore[arg-type]
            unverified_caller=unverified,
        )
        return answer.text

    def inbox(self) -> list[str]:
        """Messages pushed to this identity so far (after delivering the outbox)."""
        from sqlalchemy import select

        from data.models import PushedMessage
        from data.services.directory import find_identity

        self.app.dispatcher.drain()
        with self.app.db.session() as s:
            ident = find_identity(self.app.context(s), f"{self.channel}:{self.external}")
            if ident is None:
                return []
            return [
                p.text
                for p in s.scalars(
                    select(PushedMessage)
                    .where(PushedMessage.identity_id == ident.id)
                    .order_by(PushedMessage.id)
                )
            ]


@pytest.fixture
def chat(app: App):  # type: ignore[no-untyped-def]
    """chat("demo:resident1").say("我家水管漏水了")"""
    return lambda ref: Chat(app, ref)
