"""App.turn: on SQLite a turn runs on the event loop when the writer lock is free, and waits on a
thread (the loop keeps running) when another unit of work is writing."""

from __future__ import annotations

import asyncio
import logging
import threading

from core.messages import Inbound


def test_turn_waits_for_a_writer_without_blocking_the_event_loop(app) -> None:  # type: ignore[no-untyped-def]
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with app.db.session():
            held.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert held.wait(10)

    async def go():  # type: ignore[no-untyped-def]
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        tick = asyncio.ensure_future(ticker())
        turn = asyncio.ensure_future(app.turn(Inbound("demo", "resident1", "t-1", "我家水管漏水了")))
        await asyncio.sleep(0.3)
        if app.db.is_sqlite:
            assert not turn.done()  # queued behind the writer
        seen = ticks
        release.set()
        answer = await turn
        tick.cancel()
        return answer, seen

    try:
        answer, ticks = asyncio.run(go())
    finally:
        release.set()
        thread.join(10)
    assert ticks >= 10  # the loop ran while the turn waited
    assert answer.action == "report.start" and answer.state == "report_confirm"


def test_turn_runs_inline_and_lets_go_of_the_lock(app) -> None:  # type: ignore[no-untyped-def]
    answer = asyncio.run(app.turn(Inbound("demo", "resident1", "t-2", "我报的事情咋样了")))
    assert answer.action == "status.query"
    if app.db.is_sqlite:
        assert app.db.try_write_lock()  # released after the turn
        app.db.release_write_lock()


def test_a_refused_turn_changes_nothing_but_is_answered_once(app, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """A handler that refuses after writing is rolled back with the whole turn, which is then done
    again with the refusal as its answer: the writes are gone, the answer is recorded for dedupe."""
    from sqlalchemy import func, select

    import handlers
    from core.errors import PermissionDenied
    from data.models import AuditLog, Conversation, Identity, ProcessedMessage

    def refusing(turn):  # type: ignore[no-untyped-def]
        turn.svc.session.add(AuditLog(at=turn.svc.clock.now(), identity_id=turn.actor.identity_id,
                                      action="half-done", detail=""))  # fmt: skip
        turn.svc.session.flush()
        raise PermissionDenied("test")

    monkeypatch.setitem(handlers.REGISTRY, "status.query", refusing)
    caplog.set_level(logging.INFO, "lianhu.engine")
    app.engine.handle(Inbound("demo", "resident1", "r-1", "我家水管漏水了"))  # state: report_confirm
    refused = app.engine.handle(Inbound("demo", "resident1", "r-2", "我报的事情咋样了"))
    assert "refused: PermissionDenied" in caplog.text
    assert "没有权限" in refused.text and not refused.duplicate
    again = app.engine.handle(Inbound("demo", "resident1", "r-2", "我报的事情咋样了"))
    assert again.duplicate and again.text == refused.text
    with app.db.session() as s:
        assert s.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "half-done")) == 0
        ident = s.scalar(select(Identity.id).where(Identity.external_id == "resident1"))
        assert s.scalar(select(func.count()).where(ProcessedMessage.identity_id == ident)) == 2
        conv = s.scalar(select(Conversation).where(Conversation.identity_id == ident))
        assert conv is not None and conv.state == "report_confirm"  # the refused turn left it as it was


def test_short_messages_are_understood_once() -> None:
    from bot.engine import ShortTextCache
    from nlu.types import Parse

    seen: list[str] = []

    class Counting:
        def parse(self, text: str) -> Parse:
            seen.append(text)
            return Parse(text, text, "confirm" if text == "对" else "report")

    cache = ShortTextCache(Counting(), max_chars=6)
    assert [cache.parse("对").intent for _ in range(3)] == ["confirm"] * 3
    long = "我家水管漏水了好几天了"
    assert [cache.parse(long).intent for _ in range(2)] == ["report"] * 2
    assert seen == ["对", long, long]
