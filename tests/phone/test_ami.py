"""Notice calls through Asterisk: Lianhu originates over the manager interface (panoramisk) and the
answered call comes back over FastAGI. Asterisk is not in Debian 12, so a small local server plays
its manager side byte for byte as documented (banner, Login → Response: Success and FullyBooted,
Originate → Response: Success "queued", then Event: OriginateResponse with the same ActionID), and
the FastAGI side is played from a transcript as in test_agi. The action fields sent are asserted."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.phone.agi import AgiServer
from bot.channels.phone.ami import AmiOriginator
from bot.channels.phone.hotline import Hotline
from bot.channels.phone.outbound import NoticeCaller
from data.models import NoticeReceipt
from tests.phone.conftest import wait_until
from tests.phone.test_agi import Asterisk
from tests.phone.test_notice_call import WANG, notice_to_502

EOL = "\r\n"
SECRET = "s3cret"
REASONS = {"busy": "5", "no_answer": "3"}  # OriginateResponse Reason: AST_CONTROL_BUSY, ringing timeout


class FakeManager:
    """Asterisk's manager interface (AMI) as documented, for one client at a time: answers Login,
    Ping and Originate; the Originate's outcome is `outcome` ("answered" then plays `agi` against
    our FastAGI server, as the dialplan's AGI() would)."""

    def __init__(self) -> None:
        self.actions: list[dict[str, str]] = []
        self.outcome = "answered"
        self.agi: Any = None  # a callable run in a thread once "answered": Asterisk's FastAGI side
        self.agi_done: asyncio.Future[Any] | None = None
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0" + EOL.encode())
        authed = False
        try:
            while True:
                raw = await reader.readuntil((EOL + EOL).encode())
                action: dict[str, str] = {}
                for line in raw.decode().split(EOL):
                    key, sep, value = line.partition(": ")
                    if sep:
                        action[key] = value
                self.actions.append(action)
                name, aid = action.get("Action", "").lower(), action.get("ActionID", "")
                if name == "login":
                    authed = action.get("Secret") == SECRET
                    if authed:
                        self._send(
                            writer, Response="Success", ActionID=aid, Message="Authentication accepted"
                        )
                        self._send(writer, Event="FullyBooted", Privilege="system,all", Status="Fully Booted")
                    else:
                        self._send(writer, Response="Error", ActionID=aid, Message="Authentication failed")
                elif not authed:
                    self._send(writer, Response="Error", ActionID=aid, Message="Permission denied")
                elif name == "ping":
                    self._send(
                        writer, Response="Success", ActionID=aid, Ping="Pong", Timestamp="1764300000.000"
                    )
                elif name == "originate":
                    self._send(
                        writer, Response="Success", ActionID=aid, Message="Originate successfully queued"
                    )
                    asyncio.ensure_future(self._place(writer, action))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def _place(self, writer: asyncio.StreamWriter, action: dict[str, str]) -> None:
        await asyncio.sleep(0.2)  # ringing
        answered = self.outcome == "answered"
        self._send(
            writer,
            Event="OriginateResponse",
            Privilege="call,all",
            ActionID=action["ActionID"],
            Response="Success" if answered else "Failure",
            Channel=action["Channel"],
            Context="",
            Exten="",
            Application="AGI",
            Data=action["Data"],
            Reason="4" if answered else REASONS[self.outcome],
            Uniqueid="1764300000.201",
            CallerIDNum="<unknown>",
            CallerIDName="<unknown>",
        )
        await writer.drain()
        if answered:
            self.agi_done = asyncio.ensure_future(asyncio.to_thread(self.agi))

    @staticmethod
    def _send(writer: asyncio.StreamWriter, **headers: str) -> None:
        writer.write("".join(f"{k}: {v}{EOL}" for k, v in headers.items()).encode() + EOL.encode())


def agi_transcript(path: Path, port: int, receipt_id: int) -> Path:
    """Asterisk's FastAGI side of the answered call: the notice, then 1 during the menu, thanks, hang-up."""
    path.write_text(
        "\n".join(
            [
                "agi_network: yes",
                "agi_network_script: notice",
                f"agi_request: agi://127.0.0.1:{port}/notice",
                "agi_channel: PJSIP/trunk-00000001",
                "agi_uniqueid: 1764300000.201",
                "agi_callerid: 12345",
                f"agi_arg_1: {receipt_id}",
                "",
                "> STREAM FILE",  # who is calling, and the notice
                "< 200 result=0 endpos=80000",
                "> STREAM FILE",  # 听清楚了请按 1 …: the resident presses 1
                "< 200 result=49 endpos=20000",
                "> STREAM FILE",  # thanks
                "< 200 result=0 endpos=16000",
                "> HANGUP",
                "< 200 result=1",
                "@close",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def asterisk(app, voice_service, line, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The fake manager, our FastAGI server and a NoticeCaller originating through the manager."""
    manager = FakeManager()
    line.run(manager.start())
    hotline = Hotline(app, voice_service)

    async def agi() -> AgiServer:
        server = AgiServer(hotline, "127.0.0.1:0", tmp_path / "sounds", tmp_path / "recordings")
        await server.start()
        return server

    server = line.run(agi())
    phone = dataclasses.replace(
        app.settings.phone,
        outbound_via="ami",
        ami_port=manager.port,
        ami_secret=SECRET,
        ami_agi=f"agi://127.0.0.1:{server.port}",
        ami_caller_id="联户小助手 <12345>",
    )
    originator = AmiOriginator(phone, app.settings.notices.call_ring_seconds)
    line.run(originator.start())
    caller = hotline.caller = NoticeCaller(hotline, None, originator)
    yield manager, server, caller
    line.run(caller.stop())
    line.run(server.stop())
    line.run(manager.stop())


def receipt_502(app) -> NoticeReceipt:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        receipt = s.scalars(select(NoticeReceipt).where(NoticeReceipt.call_attempts > 0)).one()
        s.expunge(receipt)
        return receipt


def test_originate_fields_and_the_answered_call_read_over_agi(
    app, chat, asterisk, line, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    manager, server, caller = asterisk
    notice_to_502(app, chat)
    with app.db.session() as s:
        due = s.scalars(select(NoticeReceipt).where(NoticeReceipt.call_state == "due")).one()
    manager.agi = Asterisk(
        agi_transcript(tmp_path / "notice.agi", server.port, due.id), server.port, tmp_path
    ).replay
    assert line.run(caller.run_once()) == 1
    wait_until(lambda: caller.records, 30, "the call to end")
    commands = line.run(asyncio.wait_for(asyncio.shield(manager.agi_done), 10))
    login = manager.actions[0]
    assert login["Action"] == "Login" and login["Username"] == "lianhu" and login["Secret"] == SECRET
    assert login["Events"] == "call"
    [originate] = [a for a in manager.actions if a["Action"] == "Originate"]
    assert originate["Channel"] == f"PJSIP/{WANG}@trunk"
    assert originate["Application"] == "AGI"
    assert originate["Data"] == f"agi://127.0.0.1:{server.port}/notice,{due.id}"
    assert originate["Timeout"] == "30000" and originate["Async"] == "true"
    assert originate["CallerID"] == "联户小助手 <12345>" and originate["ActionID"]
    done = caller.records[0]
    assert done.result == "answered" and done.keys == ["1"] and done.acknowledged, done
    assert commands[-1] == "HANGUP"
    receipt = receipt_502(app)
    assert receipt.acknowledged_via == "phone" and receipt.call_state == "answered"


@pytest.mark.parametrize("outcome", ["busy", "no_answer"])
def test_busy_and_unanswered_originates_are_tried_again(app, chat, asterisk, line, outcome: str) -> None:  # type: ignore[no-untyped-def]
    manager, _, caller = asterisk
    manager.outcome = outcome
    notice_to_502(app, chat)
    assert line.run(caller.run_once()) == 1
    wait_until(lambda: caller.records, 30, "the originate to fail")
    assert caller.records[0].result == outcome
    receipt = receipt_502(app)
    assert receipt.call_result == outcome and receipt.call_state == "due" and receipt.answered_at is None


def test_an_agi_session_for_no_call_is_hung_up(app, asterisk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, server, caller = asterisk
    script = tmp_path / "stray.agi"
    lines = agi_transcript(tmp_path / "x.agi", server.port, 999).read_text(encoding="utf-8").splitlines()
    script.write_text("\n".join([*lines[:8], "> HANGUP", "< 200 result=1", "@close", ""]), encoding="utf-8")
    assert Asterisk(script, server.port, tmp_path).replay() == ["HANGUP"]
    assert caller.records == []
