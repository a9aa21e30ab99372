"""The phone line speaks and decodes choices from their structure, not from the chat's text: a menu
reworded in the string catalog still works, and 2 at the read-back lets the caller say it again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from bot.app import build_app, load_demo_if_empty
from tests.phone.conftest import wait_until
from tests.phone.test_agi import HERE, Asterisk, start_agi, tickets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def reworded_app(settings, clock, parser, tmp_path: Path):  # type: ignore[no-untyped-def]
    strings = yaml.safe_load((ROOT / "bot/strings/zh-CN.yaml").read_text(encoding="utf-8"))
    strings["choice"].update({"yes": "没错", "say_again": "重新说", "report": "报个事"})
    strings["report"]["confirm"] = "我记下了：{item}，在 {address}。"
    path = tmp_path / "strings.yaml"
    path.write_text(yaml.safe_dump(strings, allow_unicode=True), encoding="utf-8")
    settings = settings.with_overrides(paths=dataclasses.replace(settings.paths, strings=str(path)))
    application = build_app(settings, clock=clock, parser=parser)
    load_demo_if_empty(application)
    yield application
    application.db.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("transcript", ["report_by_voice.agi", "say_again.agi"])
def test_reworded_menu_still_works_on_the_phone(
    reworded_app, voice_service, line, tmp_path, transcript
) -> None:  # type: ignore[no-untyped-def]
    hotline, server = start_agi(reworded_app, voice_service, line, tmp_path)
    try:
        Asterisk(HERE / "transcripts" / transcript, server.port, tmp_path).replay()
        record = wait_until(lambda: hotline.records and hotline.records[-1], 10, "the call record")
    finally:
        line.run(server.stop())
    assert "报个事请按 1" in record.said[0]
    readback = [s for s in record.said if "我记下了" in s]
    assert readback and all("没错请按 1" in s and "重新说请按 2" in s for s in readback)
    if transcript == "say_again.agi":
        assert record.heard[1] == "key:2"
        assert "请说一说遇到了什么问题" in record.said[2]  # asked again, not the fix menu
        assert len(readback) == 2
    [ticket] = tickets(reworded_app)
    assert ticket.item == "water_pipe" and record.tickets == [ticket.public_no]
    assert record.outcome == "goodbye"
