"""Notices: one notice to 500 households (400 with a bound channel, 100 to call) queued in one
transaction (SQLite and PostgreSQL); and outbound notice calls over real SIP to a baresip phone that
answers by itself: dial → answered → first audio; and incoming calls answered while 4 outbound calls
are in progress (bench/notice_line.py). `python -m bench.notices` prints JSON."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.loop import PG_URL, ROOT, _ctx, _fresh, ensure_database
from bench.notice_line import incoming_during_outbound
from data.demo import load_demo
from data.models import Grid, Household, Identity, OutboxMessage, Resident, Unit

HOUSEHOLDS, WITHOUT_CHANNEL, RUNS = 500, 100, 3


def _community(db: Any) -> None:
    """The demo community plus building 99: 500 households, one resident each, 400 bound to the web."""
    from datetime import datetime

    with db.session() as s:
        ctx = _ctx(db, s)
        load_demo(ctx)
        grid = s.scalar(select(Grid).order_by(Grid.id))
        unit = Unit(grid_id=grid.id, code="U99", name="99栋联户单元")
        s.add(unit)
        s.flush()
        homes = [
            Household(unit_id=unit.id, building="99", entrance="1", room=str(100 + i))
            for i in range(HOUSEHOLDS)
        ]
        s.add_all(homes)
        s.flush()
        people = [
            Resident(household_id=h.id, name=f"住户{i}", phone=f"1390099{i:04d}") for i, h in enumerate(homes)
        ]
        s.add_all(people)
        s.flush()
        now = datetime(2026, 11, 1)
        s.add_all(
            Identity(channel="web", external_id=f"bench{i}", resident_id=p.id, created_at=now)
            for i, p in enumerate(people[WITHOUT_CHANNEL:])
        )


def queue_time(url: str) -> dict[str, Any]:
    from data.services.directory import actor_for, find_identity
    from data.services.notices import Scope, send

    db = _fresh(url)
    _community(db)
    seconds, sent = [], None
    for run in range(RUNS):
        t0 = time.perf_counter()
        with db.session() as s:
            ctx = _ctx(db, s)
            ident = find_identity(ctx, "demo:staff1")
            assert ident is not None
            actor = actor_for(ctx, ident)
            sent = send(
                ctx,
                actor,
                kind="notice",
                text=f"明天上午 9 点到 12 点停水（{run}）",
                scope=Scope("building", "99", "99 栋"),
            )
        seconds.append(time.perf_counter() - t0)
    with db.session() as s:
        rows = s.scalar(select(func.count(OutboxMessage.id)))
    db.dispose()
    assert sent is not None
    return {
        "households": sent.households,
        "channel_messages": sent.channels,
        "calls_now": sent.calls_now,
        "outbox_rows_total": rows,
        "queue_seconds_median": round(statistics.median(seconds), 3),
        "queue_seconds_max": round(max(seconds), 3),
        "target_seconds": 1.0,
    }


def outbound_calls(calls: int = 3) -> dict[str, Any]:
    if not shutil.which("baresip"):
        return {"skipped": "baresip not installed (scripts/system-deps.sh test)"}
    return asyncio.run(_outbound(calls))


async def _outbound(calls: int) -> dict[str, Any]:
    from sqlalchemy import update

    from bot.app import build_app, load_demo_if_empty
    from bot.channels.phone.hotline import Hotline
    from bot.channels.phone.outbound import NoticeCaller
    from bot.channels.phone.sip import SipEndpoint
    from core.settings import load_settings
    from data.models import NoticeReceipt
    from data.services.directory import actor_for, find_identity
    from data.services.notices import Scope, send
    from tests.phone.caller import free_port
    from tests.phone.test_notice_call import answering_phone
    from voice.service import build_voice_service

    tmp = Path(tempfile.mkdtemp(prefix="lianhu-bench-notice-"))
    phone, phone_port = answering_phone(tmp / "phone")
    phone.command("reginfo")  # up, its SIP port bound, before the line picks a free port
    settings = load_settings(
        ROOT / "config.yaml", environ={"LIANHU_DATABASE_URL": f"sqlite:///{tmp}/bench.db"}
    )
    settings = settings.with_overrides(
        phone=dataclasses.replace(
            settings.phone,
            sip_listen=f"127.0.0.1:{free_port()}",
            outbound_uri=f"sip:{{number}}@127.0.0.1:{phone_port}",
        ),
        notices=dataclasses.replace(settings.notices, call_hours="", call_repeats=0),
    )
    app = build_app(settings)
    load_demo_if_empty(app)
    voice = await asyncio.to_thread(build_voice_service, settings)
    hotline = Hotline(app, voice)
    endpoint = SipEndpoint(hotline, settings.phone.sip_listen)
    await endpoint.start()
    caller = NoticeCaller(hotline, endpoint)
    answer, first_audio = [], []
    try:
        await asyncio.to_thread(phone.command, "reginfo")
        for n in range(calls):
            with app.db.session() as s:
                ctx = app.context(s)
                ident = find_identity(ctx, "demo:leader1")
                assert ident is not None
                sent = send(
                    ctx,
                    actor_for(ctx, ident),
                    kind="notice",
                    text=f"明天 {n + 9} 点停水",
                    scope=Scope("unit", "1", ""),
                )
                s.execute(  # one household to call: 502 (the phone answers as 王秀英)
                    update(NoticeReceipt)
                    .where(
                        NoticeReceipt.notice_id == sent.notice_id,
                        NoticeReceipt.household_id.not_in(
                            select(Household.id).where(Household.room == "502")
                        ),
                    )
                    .values(call_state="")
                )
            before = len(caller.records)
            await caller.run_once()
            deadline, pressed = time.monotonic() + 60, False
            while len(caller.records) == before and time.monotonic() < deadline:
                live = next(iter(caller.live.values()), None)
                if (
                    not pressed
                    and live is not None
                    and live.answered_at
                    and time.monotonic() > live.answered_at + 1
                ):
                    await asyncio.to_thread(phone.press, "1")  # heard it: a key cuts the reading short
                    pressed = True
                await asyncio.sleep(0.1)
            record = caller.records[-1]
            if record.result == "answered":
                answer.append(record.dial_to_answer_s)
                first_audio.append(record.dial_to_first_audio_s)
    finally:
        await caller.stop()
        await endpoint.stop()
        await asyncio.to_thread(phone.hangup)
        phone.wait(10)
        app.db.dispose()
    return {
        "calls": calls,
        "answered": len(answer),
        "dial_to_answer_s_median": round(statistics.median(answer), 3) if answer else None,
        "dial_to_first_audio_s_median": round(statistics.median(first_audio), 3) if first_audio else None,
        "dial_to_first_audio_s_max": round(max(first_audio), 3) if first_audio else None,
        "target_seconds": 1.5,
    }


def run() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["queue_sqlite"] = queue_time(f"sqlite:///{tmp}/notices.db")
    try:
        ensure_database(PG_URL)
        results["queue_postgresql"] = queue_time(PG_URL)
    except Exception as err:  # noqa: BLE001 - no PostgreSQL here: SQLite figures only
        results["queue_postgresql"] = {"skipped": f"{type(err).__name__}"}
    results["outbound_call"] = outbound_calls()
    results["incoming_during_outbound"] = incoming_during_outbound()
    return results


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
