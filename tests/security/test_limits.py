"""Limits counted in the database (binding requests, proxy reports for other households) and the
in-process gates for costly work (synthesis, recognition)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.speech import SpeechBridge
from bot.guard import AudioCache, Busy, Gate, Window
from core.messages import Reply
from core.render import OutMessage
from data.models import AuditLog, OutboxMessage, Ticket

NO = re.compile(r"单号 (\d+)")


def audits(app: App, action: str) -> list[AuditLog]:
    with app.db.session() as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_binding_requests_from_one_unbound_account_are_limited(app: App, chat) -> None:  # type: ignore[no-untyped-def]
    stranger = chat("wechat:oStranger")
    stranger.say("你好")
    answers = [stranger.say(f"3 栋 2 单元 {room}") for room in ("101", "201", "301", "401", "501")]
    assert all("已提交绑定申请" in a for a in answers[:3])
    assert all("次数太多" in a for a in answers[3:])
    with app.db.session() as s:
        asks = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "binding")).all()
        assert len(asks) == 3  # the leader hears three requests, not five
    assert [a.detail for a in audits(app, "rate_limited")] == ["binding requests", "binding requests"]


def test_resident_reporting_for_another_household_is_held_for_the_leader(app: App, chat) -> None:  # type: ignore[no-untyped-def]
    resident = chat("demo:resident1")
    resident.say("帮 3 栋 2 单元 101 报：楼道的灯坏了")
    answer = resident.say("对")
    assert "核实" in answer
    number = NO.search(answer).group(1)  # type: ignore[union-attr]
    with app.db.session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.public_no == number))
        assert ticket is not None and ticket.needs_verification
    assert any("替这户报" in m and number in m for m in chat("demo:leader1").inbox())


def test_own_household_reports_are_not_held(app: App, chat) -> None:  # type: ignore[no-untyped-def]
    resident = chat("demo:resident1")
    resident.say("我家水管漏水了")
    number = NO.search(resident.say("对")).group(1)  # type: ignore[union-attr]
    with app.db.session() as s:
        assert not s.scalar(select(Ticket.needs_verification).where(Ticket.public_no == number))


def test_proxy_reports_past_the_daily_limit_are_refused_and_audited(app: App, chat) -> None:  # type: ignore[no-untyped-def]
    app.settings = app.settings.with_overrides(
        limits=dataclasses.replace(app.settings.limits, proxy_reports_per_day=2)
    )
    app.engine.settings = app.settings
    resident = chat("demo:resident1")
    answers = []
    for room, words in (("101", "楼道的灯坏了"), ("201", "厕所堵了"), ("301", "水管漏水了")):
        resident.say(f"帮 3 栋 2 单元 {room} 报：{words}")
        answers.append(resident.say("对"))
    assert NO.search(answers[0]) and NO.search(answers[1])
    assert "太多" in answers[2] and not NO.search(answers[2])
    assert [a.detail for a in audits(app, "rate_limited")] == ["proxy reports"]


def test_window_counts_per_key_and_forgets_after_the_window() -> None:
    now = [0.0]
    w = Window(2, 60, now=lambda: now[0])
    assert [w.hit("a"), w.hit("a"), w.hit("a"), w.hit("b")] == [0, 0, 1, 0]
    now[0] = 61
    assert w.hit("a") == 0


def test_gate_bounds_per_key_overall_and_waiting() -> None:
    async def run() -> list[str]:
        gate = Gate(overall=1, per_key=1, queue=1)
        release = asyncio.Event()
        results: list[str] = []

        async def work(key: str) -> None:
            try:
                async with gate.enter(key):
                    await release.wait()
                results.append(f"{key} done")
            except Busy:
                results.append(f"{key} busy")

        tasks = [asyncio.create_task(work(k)) for k in ("a", "a", "b", "c")]
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(*tasks)
        return sorted(results)

    assert asyncio.run(run()) == ["a busy", "a done", "b done", "c busy"]


def test_audio_cache_is_bounded_in_bytes() -> None:
    cache = AudioCache(1000)
    for n in range(10):
        cache.put((str(n), "mp3"), b"x" * 200)
    assert cache.get(("0", "mp3")) is None and cache.get(("9", "mp3")) == b"x" * 200
    assert sum(len(cache.get((str(n), "mp3")) or b"") for n in range(10)) <= 1000


class FailingVoice:
    """A voice service whose synthesizer fails the way espeak-ng does (its error names the text)."""

    def __init__(self) -> None:
        self.calls = 0

    async def speak(self, rendered: object, fmt: str) -> bytes:
        self.calls += 1
        raise RuntimeError(f"espeak-ng failed on {rendered!r}")


def test_synthesis_failure_logs_no_personal_text(app: App, caplog: pytest.LogCaptureFixture) -> None:
    app.voice = FailingVoice()  # type: ignore[assignment]
    bridge = SpeechBridge(app)
    with caplog.at_level(logging.INFO):
        assert asyncio.run(bridge.speak([OutMessage("王秀英家 3 栋 2 单元 502 水管漏水")], "mp3")) is None
    assert "王秀英" not in caplog.text and "502" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_rendered_audio_is_cached(app: App) -> None:
    class Voice:
        calls = 0

        async def speak(self, rendered: object, fmt: str) -> bytes:
            Voice.calls += 1
            return b"audio"

    app.voice = Voice()  # type: ignore[assignment]
    bridge = SpeechBridge(app)
    for _ in range(3):
        assert asyncio.run(bridge.speak([OutMessage("您好")], "mp3")) == b"audio"
    assert Voice.calls == 1


def test_espeak_failure_does_not_carry_the_words() -> None:
    from core.errors import SynthesisError
    from voice.tts_espeak import EspeakSynthesizer

    with pytest.raises(SynthesisError) as caught:
        EspeakSynthesizer(binary="/nonexistent/espeak-ng").synthesize("王秀英家 3 栋 2 单元 502")
    assert "王秀英" not in str(caught.value) and caught.value.__cause__ is None


class QueueFullVoice:
    """A voice service whose recognition queue is full (voice.batching refused the request)."""

    async def transcribe(self, data: bytes, fmt: str | None = None, hints=(), priority=None):  # type: ignore[no-untyped-def]
        from voice.asr import NotRecognized

        return NotRecognized("busy")


def test_a_full_recognition_queue_answers_busy(app: App) -> None:
    from core.messages import Inbound

    app.voice = QueueFullVoice()  # type: ignore[assignment]
    bridge = SpeechBridge(app)
    out = asyncio.run(bridge.hear(Inbound("web", "tok-1", audio=b"x"), b"x", "amr"))
    assert isinstance(out, OutMessage)
    assert out.text == app.engine.render(Reply("guard.busy")).text
