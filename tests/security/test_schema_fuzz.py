"""Schemathesis against the served OpenAPI schema (the real server on loopback, schema switched on
for the run): every operation, a bounded number of generated requests each, as a resident for the
chat API and as community staff for the workbench. No answer may be a server error."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from bot.app import App, build_app, load_demo_if_empty
from bot.channels.web_page import AUDIO_TYPES
from core.settings import load_settings
from data.clock import ManualClock
from tests.channels.conftest import LiveServer, web_token

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("LIANHU_SCHEMA_EXAMPLES", "20"))
pytestmark = pytest.mark.slow


@schemathesis.serializer(*AUDIO_TYPES)
def _audio(ctx: object, value: object) -> bytes:
    """Generated voice-note bodies as they are sent: raw bytes (the schema says binary)."""
    return value if isinstance(value, bytes) else str(value).encode()


class Voice:
    """Speech stands in for the models here: this run is about the HTTP edge, and loading the
    recognizer and voices would take longer than the whole run (tests/voice covers them)."""

    async def speak(self, rendered: object, fmt: str) -> bytes:
        return b"ID3 audio"

    async def transcribe(
        self, data: bytes, fmt: str | None = None, hints: object = (), priority: object = None
    ) -> object:
        from voice.asr import NotRecognized

        return NotRecognized("corrupt")


@pytest.fixture(scope="module")
def served(parser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, App]]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("schema")
    settings_ = load_settings(
        ROOT / "config.yaml",
        environ={
            "LIANHU_DATABASE_URL": f"sqlite:///{tmp / 'lianhu.db'}",
            "LIANHU_PATHS_VAR_DIR": str(tmp / "var"),
            "LIANHU_PATHS_RECORDINGS": str(tmp / "var/recordings"),
            "LIANHU_SERVER_API_DOCS": "true",
        },
    )
    # generous limits: the run sends hundreds of requests from one token and one address
    lim = dataclasses.replace(settings_.limits, chat_turns_per_minute=10_000, failed_tokens_per_minute=10_000)
    app = build_app(settings_.with_overrides(limits=lim), clock=ManualClock(), parser=parser)
    load_demo_if_empty(app)
    app.voice = Voice()  # type: ignore[assignment]
    server = LiveServer(app, workers=False)
    yield server, app
    server.stop()
    app.db.dispose()


@pytest.fixture(scope="module")
def api_schema(served: tuple[LiveServer, App]):  # type: ignore[no-untyped-def]
    server, _ = served
    # the event streams stay open for minutes by design; they are covered in test_http_edges
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json").exclude(path_regex="events$")


@pytest.fixture(scope="module")
def credentials(served: tuple[LiveServer, App]) -> dict[str, str]:
    from data.services.directory import find_identity
    from data.services.staff_auth import open_session

    server, app = served
    with app.db.session() as s:
        ctx = app.context(s)
        staff = find_identity(ctx, "demo:staff1")
        assert staff is not None and staff.staff_id is not None
        session = open_session(ctx, app.settings.workbench, staff.staff_id, "schemathesis")
    return {"Authorization": f"Bearer {web_token(app, 'demo:resident1')}", "Cookie": f"lianhu_wb={session}"}


def test_no_operation_answers_a_server_error(api_schema, credentials: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Each operation in turn (schemathesis's pytest plugin predates this pytest: its strategies are
    driven by Hypothesis directly here)."""
    errors: list[tuple[str, str, int, str]] = []
    calls = 0
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 25

    for operation in operations:

        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(case=operation.as_strategy())
        def run(case) -> None:  # type: ignore[no-untyped-def]
            nonlocal calls
            response = case.call(headers={**(case.headers or {}), **credentials}, timeout=30)
            calls += 1
            if response.status_code >= 500:
                errors.append((case.method, case.formatted_path, response.status_code, response.text[:200]))

        run()
    assert calls >= len(operations)
    assert errors == []


def test_findings_of_this_run_stay_fixed(served: tuple[LiveServer, App], credentials: dict[str, str]) -> None:
    """What the schema run found first: a non-ASCII CSRF value (hmac.compare_digest raises on str
    outside ASCII) and ids past the database's integers were server errors."""
    import httpx

    server, _ = served
    cookie = {"Cookie": credentials["Cookie"]}
    r = httpx.post(f"{server.url}/workbench/logout", data={"csrf": "é"}, headers=cookie)
    assert r.status_code < 500
    for path in (
        "/workbench/registry/residents/73296142284205858816",
        "/workbench/audit?page=99999999999999999999",
    ):
        assert httpx.get(server.url + path, headers=cookie).status_code < 500, path
