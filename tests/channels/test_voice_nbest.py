"""A real voice note through the web API: the recognizer's other readings (n-best) reach the engine,
which chooses among them (nlu.nbest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import App
from bot.server import create_server
from core.messages import Inbound
from tests.channels.conftest import web_token

ROOT = Path(__file__).resolve().parents[2]
# Heard (no prompt, beam 5) as 「门口有更难的一直站着步走」, its second reading 「门口有个难的…」.
FIXTURE = ROOT / "tests/voice/fixtures/danger02_stranger.ogg"


@pytest.mark.slow
@pytest.mark.skipif(not FIXTURE.exists(), reason="voice fixtures not present")
def test_voice_note_alternatives_reach_the_engine(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    app.load_voice()
    seen: list[Inbound] = []
    handle = app.engine.handle

    def spy(inbound: Inbound, **kw):  # type: ignore[no-untyped-def]
        seen.append(inbound)
        answer = handle(inbound, **kw)
        seen.append(answer)  # type: ignore[arg-type]
        return answer

    monkeypatch.setattr(app.engine, "handle", spy)
    token = web_token(app, "demo:resident1")
    with TestClient(create_server(app, workers=False)) as client:
        r = client.post(
            "/api/voice?msg_id=v1",
            content=FIXTURE.read_bytes(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "audio/ogg"},
        )
    assert r.status_code == 200, r.text
    inbound, answer = seen
    assert inbound.spoken and inbound.asr_alternatives, inbound
    text, logprob = inbound.asr_alternatives[0]
    assert text != inbound.text and logprob <= 0.0
    # the danger phrase was heard in one of the readings: the safety question comes first
    assert answer.parse.risk in ("suspected", "emergency"), answer.parse  # type: ignore[attr-defined]
    assert r.json()["heard"]
