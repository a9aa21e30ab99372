"""A notice read to a resident over real SIP: Lianhu calls Debian's baresip CLI (the resident's phone,
answering by itself), the phone hears the notice (recognized back from what it recorded), presses 1,
and the receipt shows acknowledged by phone. 「不要再打了」 on the call, by key 8 or said, is confirmed
with 1 and kept: the next notice does not call that resident."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.channels.phone.outbound import NoticeCaller
from bot.notice_words import stop_calls_spoken
from data.models import AuditLog, Household, NoticeReceipt, Resident
from data.services.notice_calls import claim_calls
from tests.phone.caller import BARESIP, Phone, silence
from tests.phone.conftest import wait_until
from tests.phone.test_sip_call import recognize_heard, start_line

pytestmark = [
    pytest.mark.slow,
    pytest.mark.flaky(reruns=2, reruns_delay=2),
    pytest.mark.skipif(BARESIP is None, reason="baresip CLI not installed (make test installs baresip-core)"),
]
WANG = "13800000502"  # 王秀英, 3 栋 2 单元 502: lives alone, prefers voice


def answering_phone(workdir: Path, mic: bytes | None = None) -> tuple[Phone, int]:
    """A baresip phone that answers by itself (its microphone playing `mic`); returns it and its SIP port."""
    phone = Phone(workdir, WANG, silence(60) if mic is None else mic)
    port = int(re.search(r"sip_listen 127\.0\.0\.1:(\d+)", (workdir / "config").read_text()).group(1))  # type: ignore[union-attr]
    (workdir / "accounts").write_text(f"<sip:{WANG}@127.0.0.1:{port}>;regint=0;answermode=auto\n")
    log = open(workdir / "baresip.log", "wb")  # noqa: SIM115 - closed with the process
    phone.proc = subprocess.Popen(
        [BARESIP or "baresip", "-f", str(workdir), "-t", "90"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    return phone, port


def test_lianhu_calls_reads_the_notice_and_records_key_1(
    app, chat, voice_service, line, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    if not app.db.is_sqlite:
        pytest.skip("one backend is enough for the SIP path (receipts are covered on both)")
    leader = chat("demo:leader1")
    leader.say("通知：明天上午 9 点到 12 点停水")
    leader.say("1")
    with app.db.session() as s:  # only 502 is called in this test (the others are another phone's)
        s.execute(
            update(NoticeReceipt)
            .where(NoticeReceipt.household_id.not_in(select(Household.id).where(Household.room == "502")))
            .values(call_state="")
        )
    phone, port = answering_phone(tmp_path / "phone")
    phone.command("reginfo")  # the phone is up (its SIP port taken) before the line picks a free port
    hotline, endpoint, uri = start_line(
        app, voice_service, line, outbound_uri=f"sip:{{number}}@127.0.0.1:{port}", max_calls=2
    )
    caller = NoticeCaller(hotline, endpoint)
    incoming = Phone(tmp_path / "incoming", "13800000301", silence(20))  # 李建国 calls in meanwhile
    try:
        phone.command("reginfo")  # answers once the phone is up
        assert line.run(caller.run_once()) == 1
        record = wait_until(lambda: next(iter(caller.live.values()), None), 10, "the call to start")
        wait_until(lambda: record.answered_at or caller.records, 15, "the phone to answer")
        assert record.answered_at, (caller.records, phone.log()[-2000:])
        assert caller.free_slots() == 0  # max_calls 2: one outbound call leaves the last slot to callers
        dialed = time.monotonic()
        incoming.dial(uri)  # an incoming call during the outbound call is still answered
        answered_in = wait_until(lambda: hotline.live and time.monotonic(), 10, "the incoming call") - dialed
        wait_until(lambda: any(r.said for r in hotline.live.values()), 10, "the incoming greeting")
        incoming.hangup()
        time.sleep(max(0.0, record.answered_at + record.prompt_seconds - 1.0 - time.monotonic()))
        phone.press("1")
        wait_until(lambda: caller.records, 20, "the call to end")
    finally:
        line.run(caller.stop())
        line.run(endpoint.stop())
        for p in (phone, incoming):
            p.hangup() if p.proc and p.proc.poll() is None else None
            p.wait(10)
    done = caller.records[0]
    assert done.result == "answered" and done.keys[:1] == ["1"], phone.log()[-2000:]
    assert done.dial_to_first_audio_s < 1.5
    assert answered_in < 5  # from starting the baresip CLI (a process start) to the call flow running
    with app.db.session() as s:
        receipt = s.get(NoticeReceipt, done.receipt_id)
        assert receipt is not None and receipt.acknowledged_via == "phone" and receipt.answered_at is not None
    pcm = phone.heard()
    # What the phone heard, recognized in 8 s windows: who calls and why and the keys (prompt library),
    # and the notice's hours (digits from prompts; its other words are live synthesis, which the
    # recognizer does not reliably make out).
    step = 8000 * 2 * 4
    heard = "".join(
        recognize_heard(voice_service, pcm[i : i + 2 * step]) for i in range(0, min(len(pcm), 6 * step), step)
    )
    assert "通知" in heard and "再听一遍" in heard and ("十二" in heard or "12" in heard), heard
    figures = leader.say("通知 1 情况")
    assert "确认收到 2 户" in figures and "接听 1 户" in figures and "3 栋 2 单元 502" not in figures, figures


def notice_to_502(app, chat):  # type: ignore[no-untyped-def]
    """The leader sends a notice; only 502 (王秀英, this test's phone) is left due a call."""
    leader = chat("demo:leader1")
    leader.say("通知：明天上午 9 点到 12 点停水")
    leader.say("1")
    with app.db.session() as s:
        s.execute(
            update(NoticeReceipt)
            .where(NoticeReceipt.household_id.not_in(select(Household.id).where(Household.room == "502")))
            .values(call_state="")
        )
    return leader


def call_502(app, voice_service, line, tmp_path: Path, mic: bytes | None, act) -> NoticeCaller:  # type: ignore[no-untyped-def]
    """Lianhu calls 502's phone; `act(phone, record)` plays the resident's part; returns the caller."""
    phone, port = answering_phone(tmp_path / "phone", mic)
    phone.command("reginfo")  # the phone is up (its SIP port taken) before the line picks a free port
    hotline, endpoint, _ = start_line(
        app, voice_service, line, outbound_uri=f"sip:{{number}}@127.0.0.1:{port}"
    )
    caller = NoticeCaller(hotline, endpoint)
    try:
        phone.command("reginfo")
        assert line.run(caller.run_once()) == 1
        record = wait_until(lambda: next(iter(caller.live.values()), None), 10, "the call to start")
        wait_until(lambda: record.answered_at or caller.records, 15, "the phone to answer")
        assert record.answered_at, (caller.records, phone.log()[-2000:])
        act(phone, record)
        wait_until(lambda: caller.records, 40, "the call to end")
    finally:
        line.run(caller.stop())
        line.run(endpoint.stop())
        phone.hangup() if phone.proc and phone.proc.poll() is None else None
        phone.wait(10)
    return caller


def assert_calls_stopped(app, chat, receipt_id: int) -> None:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        wang = s.scalar(select(Resident).where(Resident.phone == WANG))
        receipt = s.get(NoticeReceipt, receipt_id)
        assert wang is not None and wang.no_notice_calls  # kept on the registry
        assert receipt is not None and receipt.call_state == "answered" and receipt.acknowledged_at is None
        assert s.scalar(select(AuditLog).where(AuditLog.action == "no_notice_calls")) is not None
    notice_to_502(app, chat)  # the next notice: 502 prefers voice but is not called
    with app.db.session() as s:
        assert claim_calls(app.context(s), 100) == []


def test_key_8_then_1_stops_notice_calls(app, chat, voice_service, line, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if not app.db.is_sqlite:
        pytest.skip("one backend is enough for the SIP path (stop_calls is covered on both)")
    notice_to_502(app, chat)

    def act(phone: Phone, record) -> None:  # type: ignore[no-untyped-def]
        time.sleep(1.0)
        phone.press("8")  # a key cuts the reading short: 「以后不再打电话给您说通知，对吗？」
        time.sleep(1.5)
        phone.press("1")

    done = call_502(app, voice_service, line, tmp_path, None, act).records[0]
    assert done.result == "answered" and done.keys == ["8", "1"] and done.stopped and not done.acknowledged
    assert_calls_stopped(app, chat, done.receipt_id)


def test_saying_stop_calls_on_the_call_is_kept(app, chat, voice_service, line, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if not app.db.is_sqlite:
        pytest.skip("one backend is enough for the SIP path (stop_calls is covered on both)")
    notice_to_502(app, chat)
    from tests.phone.test_agi import fixture_pcm8k

    said = fixture_pcm8k("stop_calls.wav")  # 「不要再打了」 in the natural voice, then half a second
    mic = silence(1.0) + (said + silence(2.5)) * 25  # said over and over: the reading does not stop for it

    def act(phone: Phone, record) -> None:  # type: ignore[no-untyped-def]
        wait_until(lambda: any(stop_calls_spoken(t) for t in record.heard), 45, "「不要再打了」 to be heard")
        time.sleep(1.0)
        phone.press("1")

    done = call_502(app, voice_service, line, tmp_path, mic, act).records[0]
    assert done.result == "answered" and done.stopped and done.keys == ["1"], done
    assert_calls_stopped(app, chat, done.receipt_id)
