"""Voice notes are heard with the resident's context: while the dialogue waits for an address, the
registered addresses (their own first, then their unit's) go to the recognizer as hints."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import App
from bot.server import create_server
from core.conversation import DialogueState, State
from data.services.conversations import save_state
from data.services.directory import find_identity, get_or_create_identity
from data.services.phone import address_hints, note_hints, own_address_hints
from tests.channels import wechat_payloads as wx
from tests.channels.conftest import bind

# 「就在我家门口，三栋二单元五零二。」
FIXTURE = Path(__file__).resolve().parents[2] / "tests/voice/fixtures/addr01_home.ogg"


def _waiting_for_address(app: App, ref: str) -> None:
    with app.db.session() as s:
        ctx = app.context(s)
        channel, _, external = ref.partition(":")
        ident = find_identity(ctx, ref) or get_or_create_identity(ctx, channel, external)
        save_state(ctx, ident.id, DialogueState(State.REPORT_ADDRESS, {"item": "lighting"}))


def test_hints_only_while_an_address_is_asked(app: App) -> None:
    with app.db.session() as s:
        assert note_hints(app.context(s), "demo", "resident1") == ()  # an idle conversation
        assert note_hints(app.context(s), "demo", "nobody") == ()
    _waiting_for_address(app, "demo:resident1")
    _waiting_for_address(app, "web:visitor")  # not registered
    with app.db.session() as s:
        ctx = app.context(s)
        hints = note_hints(ctx, "demo", "resident1")
        assert hints[0] == "3栋2单元502" and 1 < len(hints) <= 12 and len(set(hints)) == len(hints)
        assert all(h.startswith("3栋2单元") for h in hints)  # the neighbours of resident1's unit
        assert note_hints(ctx, "web", "visitor") == address_hints(ctx)
        # the phone line asks the same, its own dialogue knowing when an address is asked
        assert own_address_hints(ctx, "demo", "resident1") == hints
        assert own_address_hints(ctx, "phone", "13911112222") == address_hints(ctx)  # an unknown number


@pytest.mark.slow
@pytest.mark.skipif(not FIXTURE.exists(), reason="voice fixtures not present")
def test_wechat_voice_note_answers_the_address_question(wechat_app: App, recorder) -> None:  # type: ignore[no-untyped-def]
    """A WeChat voice note (AMR, 8 kHz) answering 「在哪里？」 is heard with the registered addresses as
    hints, and the report is read back for confirmation there. (Without hints this clip reads
    「3-2单元502」, which the spoken repair also mends; through the phone's µ-law 「三道二单元五零案」.)"""
    from voice import codecs

    amr = codecs.encode(codecs.decode(FIXTURE.read_bytes(), "ogg"), "amr")
    recorder.routes["/cgi-bin/media/get"] = lambda call: (200, "audio/amr", amr)
    wechat_app.settings = wechat_app.settings.with_overrides(
        wechat=dataclasses.replace(wechat_app.settings.wechat, reply_timeout_seconds=60)
    )
    bind(wechat_app, "wechat", "oAddr")
    wechat_app.load_voice()
    assert wechat_app.voice is not None
    heard_with: list[tuple[str, ...]] = []
    transcribe = wechat_app.voice.transcribe

    async def spy(data: bytes, fmt_hint: str | None = None, hints=(), priority=None):  # type: ignore[no-untyped-def]
        heard_with.append(tuple(hints))
        return await transcribe(data, fmt_hint, hints, priority)

    wechat_app.voice.transcribe = spy  # type: ignore[method-assign]

    def reply(xml: str) -> str:
        resp = client.post(
            "/wechat", params=wx.query(), content=xml.encode(), headers={"Content-Type": "text/xml"}
        )
        assert resp.status_code == 200, resp.text
        return re.sub(r"\s", "", ET.fromstring(resp.text).findtext("Content") or "")

    with TestClient(create_server(wechat_app, workers=False)) as client:
        asked = reply(wx.text("oAddr", "楼道灯坏了，在九栋九单元九零九", 9101))
        assert "9栋9单元909" not in asked and "地址" in asked, asked  # no such household: asked again
        answer = reply(wx.voice("oAddr", "MEDIA_ADDR_1", 9102))
    assert "3栋2单元502" in answer, answer  # the report read back at the address said
    assert heard_with and heard_with[-1][0] == "3栋2单元502", heard_with
