"""End to end over real SIP: Debian's baresip CLI calls the hotline on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from data.models import Ticket
from tests.phone.caller import BARESIP, Phone, free_port, silence
from tests.phone.conftest import wait_until
from voice.telephony.hotline import Hotline
from voice.telephony.sip import SipEndpoint

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BARESIP is None, reason="baresip CLI not installed (make test installs baresip-core)"),
]
RESIDENT_PHONE = "13800000502"  # 王秀英, demo:resident1


def start_line(app, voice_service, line, **phone):  # type: ignore[no-untyped-def]
    port = free_port()
    settings = app.settings.with_overrides(
        phone=app.settings.phone.__class__(
            **{**app.settings.phone.__dict__, "sip_listen": f"127.0.0.1:{port}", **phone}
        )
    )
    app.settings = settings
    hotline = Hotline(app, voice_service)
    endpoint = SipEndpoint(hotline, settings.phone.sip_listen)
    line.run(endpoint.start())
    return hotline, endpoint, f"sip:lianhu@127.0.0.1:{port}"


def live_record(hotline: Hotline):  # type: ignore[no-untyped-def]
    return wait_until(lambda: next(iter(hotline.live.values()), None), 20, "the call to be answered")


def said(record, text: str, times: int = 1) -> bool:  # type: ignore[no-untyped-def]
    return sum(text in s for s in record.said) >= times


def test_keypad_only_call_reads_status_and_repeats(app, chat, voice_service, line, tmp_path: Path) -> None:
    me = chat("demo:resident1")
    me.say("我家水管漏水了")
    me.say("1")
    with app.db.session() as s:
        ticket_no = s.scalars(select(Ticket.public_no)).one()
    hotline, endpoint, uri = start_line(app, voice_service, line)
    phone = Phone(tmp_path / "phone", RESIDENT_PHONE, silence(60))
    try:
        phone.dial(uri)
        record = live_record(hotline)
        wait_until(lambda: record.said, 10, "the greeting")
        time.sleep(1.0)
        phone.press("2")  # a key interrupts the greeting
        wait_until(lambda: said(record, ticket_no), 20, "the status read-back")
        phone.press("9")
        wait_until(lambda: said(record, ticket_no, 2), 20, "the repeat")
        time.sleep(1.0)
        phone.hangup()
        phone.wait(20)
        wait_until(lambda: hotline.records, 10, "the call record")
    finally:
        line.run(endpoint.stop())
    assert record.known
    assert record.heard[:2] == ["key:2", "key:9"]
    assert record.outcome == "hung_up"
    assert "王秀英" in record.said[0]
