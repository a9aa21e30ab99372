"""Fail safe on the phone line (FastAGI replayed from transcripts, real speech recognition): danger said
out loud raises the alarm and reaches the duty phone; the safety question unanswered counts as yes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from data.models import RiskCheck, Ticket
from tests.phone.conftest import wait_until
from tests.phone.test_agi import HERE, Asterisk, start_agi


def call(app, voice_service, line, tmp_path: Path, transcript: str):  # type: ignore[no-untyped-def]
    hotline, server = start_agi(app, voice_service, line, tmp_path)
    try:
        Asterisk(HERE / "transcripts" / transcript, server.port, tmp_path).replay()
        return wait_until(lambda: hotline.records and hotline.records[-1], 10, "the call record")
    finally:
        line.run(server.stop())


@pytest.mark.slow
def test_danger_said_on_the_phone_raises_the_alarm(app, voice_service, line, tmp_path: Path) -> None:
    record = call(app, voice_service, line, tmp_path, "danger_by_voice.agi")
    assert record.outcome == "transferred" and record.heard[0].startswith("speech:")
    assert any("紧急情况" in s for s in record.said)
    with app.db.session() as s:
        [ticket] = s.scalars(select(Ticket)).all()
        assert ticket.urgent and ticket.source_channel == "phone"


@pytest.mark.slow
def test_silence_after_the_safety_question_counts_as_yes(app, voice_service, line, tmp_path: Path) -> None:
    record = call(app, voice_service, line, tmp_path, "safety_question_silence.agi")
    assert "您现在有危险吗" in record.said[1]
    assert record.heard[1] == "silence" and record.outcome == "transferred"
    with app.db.session() as s:
        [ticket] = s.scalars(select(Ticket)).all()
        check = s.scalars(select(RiskCheck)).one()
        assert ticket.urgent and (check.outcome, check.ticket_id) == ("no_answer", ticket.id)
