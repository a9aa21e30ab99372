"""Phone fixtures: the recognizer and prompt voice loaded once, and the SIP line run on its own event
loop in a background thread while the test drives a real SIP phone from the main thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from core.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def voice_service():  # type: ignore[no-untyped-def]
    """Whisper + prompt library + live voice, loaded once for the whole session."""
    from core.errors import ModelMissing
    from voice.service import build_voice_service

    try:
        return build_voice_service(load_settings(ROOT / "config.yaml"))
    except ModelMissing as err:
        pytest.skip(f"speech model missing ({err}); `make install` prepares it")


class Line:
    """An event loop in a thread hosting the hotline's endpoint(s)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 60) -> Any:
        fut: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Calls run on one database, PostgreSQL when the suite has one: what a call writes goes through
    the same services as every other turn, which the rest of the suite runs on both."""
    from data.db import normalize_url
    from tests.conftest import PG_URL, reset_postgres

    if PG_URL:
        reset_postgres(normalize_url(PG_URL))
        return normalize_url(PG_URL)
    return f"sqlite:///{tmp_path / 'lianhu.db'}"


@pytest.fixture
def line() -> Iterator[Line]:
    runner = Line()
    yield runner
    runner.close()


def wait_until(predicate: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
