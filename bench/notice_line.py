"""The line during an outbound wave: with `phone.outbound_max_calls` = 4 notice calls in progress (real
SIP to one baresip phone answering as four residents), incoming calls placed by SIPp are timed twice:
INVITE → 200 OK as the caller sees it (SIPp's response time), and INVITE arriving → first audio of the
greeting on our side. Target: answered within 1 s. Run from bench/notices.py."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bench.loop import ROOT

OUTBOUND, INCOMING = 4, 6
SCENARIO = ROOT / "tests/phone/sipp/hold_call.xml"


def _pct(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3) if ordered else None


def incoming_during_outbound() -> dict[str, Any]:
    if not shutil.which("baresip") or not shutil.which("sipp"):
        return {"skipped": "baresip / sipp not installed (scripts/system-deps.sh test)"}
    return asyncio.run(_run())


def _answering_phone(workdir: Path, numbers: list[str]) -> tuple[Any, int]:
    """One baresip instance answering by itself as each of `numbers` (up to 8 calls at once)."""
    import re
    import subprocess

    from tests.phone.caller import BARESIP, Phone, silence

    phone = Phone(workdir, numbers[0], silence(90))
    config = (workdir / "config").read_text()
    (workdir / "config").write_text(config + "call_max_calls 8\n")
    port = int(re.search(r"sip_listen 127\.0\.0\.1:(\d+)", config).group(1))  # type: ignore[union-attr]
    (workdir / "accounts").write_text(
        "".join(f"<sip:{n}@127.0.0.1:{port}>;regint=0;answermode=auto\n" for n in numbers)
    )
    log = open(workdir / "baresip.log", "wb")  # noqa: SIM115 - closed with the process
    phone.proc = subprocess.Popen(
        [BARESIP or "baresip", "-f", str(workdir), "-t", "150"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    return phone, port


def _due_calls(app: Any) -> list[str]:
    """A notice to unit 1 with exactly OUTBOUND households due a call now; the numbers called."""
    from data.models import NoticeReceipt
    from data.services.directory import actor_for, find_identity
    from data.services.notice_calls import claim_calls
    from data.services.notices import Scope, send

    with app.db.session() as s:
        ctx = app.context(s)
        ident = find_identity(ctx, "demo:leader1")
        assert ident is not None
        sent = send(
            ctx,
            actor_for(ctx, ident),
            kind="notice",
            text="明天上午 9 点到 12 点停水",
            scope=Scope("unit", "1", ""),
        )
        mine = NoticeReceipt.notice_id == sent.notice_id
        s.execute(update(NoticeReceipt).where(mine).values(call_state="due", call_due_at=ctx.clock.now()))
    with app.db.session() as s:  # the calls the caller would take (households with a phone), then undone
        jobs = claim_calls(app.context(s), 100)[:OUTBOUND]
        s.rollback()
        keep = [job.receipt_id for job in jobs]
        s.execute(update(NoticeReceipt).where(mine, NoticeReceipt.id.not_in(keep)).values(call_state=""))
    return [job.number for job in jobs]


async def _run() -> dict[str, Any]:
    from bot.app import build_app, load_demo_if_empty
    from bot.channels.phone.hotline import Hotline
    from bot.channels.phone.outbound import NoticeCaller
    from bot.channels.phone.sip import SipChannel, SipEndpoint
    from core.settings import load_settings
    from tests.phone.caller import free_port
    from voice.service import build_voice_service

    tmp = Path(tempfile.mkdtemp(prefix="lianhu-bench-line-"))
    settings = load_settings(
        ROOT / "config.yaml", environ={"LIANHU_DATABASE_URL": f"sqlite:///{tmp}/bench.db"}
    )
    settings = settings.with_overrides(
        phone=dataclasses.replace(settings.phone, outbound_max_calls=OUTBOUND),
        notices=dataclasses.replace(settings.notices, call_hours="", call_repeats=5),
    )
    app = build_app(settings)
    load_demo_if_empty(app)
    numbers = _due_calls(app)
    phone, phone_port = _answering_phone(tmp / "phone", numbers)
    await asyncio.to_thread(phone.command, "reginfo")  # up, its SIP port bound, before ours is picked
    port = free_port()
    app.settings = settings = settings.with_overrides(
        phone=dataclasses.replace(
            settings.phone,
            sip_listen=f"127.0.0.1:{port}",
            outbound_uri=f"sip:{{number}}@127.0.0.1:{phone_port}",
        )
    )
    voice = await asyncio.to_thread(build_voice_service, settings)
    hotline = Hotline(app, voice)
    arrived: dict[int, float] = {}  # incoming call id → when the INVITE reached us
    greeted: dict[int, float] = {}  # ... → first audio of the greeting

    class Endpoint(SipEndpoint):
        def _incoming(self, call: Any) -> None:
            arrived[id(call)] = time.monotonic()
            super()._incoming(call)

    async def timed_flow(hl: Hotline, ch: SipChannel) -> Any:
        from bot.channels.phone.flow import CallFlow

        write = ch._write

        def first_write(pcm: bytes) -> int:
            taken = write(pcm)
            if taken and id(ch.call) not in greeted:
                greeted[id(ch.call)] = time.monotonic()
            return taken

        ch._write = first_write  # type: ignore[method-assign]
        return await CallFlow(hl, ch).run()

    endpoint = Endpoint(hotline, settings.phone.sip_listen, flow=timed_flow)
    await endpoint.start()
    caller = NoticeCaller(hotline, endpoint)
    out: dict[str, Any] = {"outbound_max_calls": OUTBOUND, "target_seconds": 1.0}
    try:
        await asyncio.to_thread(phone.command, "reginfo")
        out["outbound_started"] = await caller.run_once()
        deadline = time.monotonic() + 30
        while (
            sum(1 for r in caller.live.values() if r.answered_at) < OUTBOUND and time.monotonic() < deadline
        ):
            await asyncio.sleep(0.1)
        out["outbound_answered"] = sum(1 for r in caller.live.values() if r.answered_at)
        low = OUTBOUND

        async def watch() -> None:
            nonlocal low
            while True:
                low = min(low, caller.active)
                await asyncio.sleep(0.05)

        watcher = asyncio.ensure_future(watch())
        rtd_ms = await _sipp_calls(tmp, port)
        watcher.cancel()
        await asyncio.sleep(1)  # the last incoming call's flow ends after SIPp's BYE
        out["outbound_active_min_during_incoming"] = low
        out["outbound_ended_early"] = [r.result for r in caller.records]  # none, when all 4 stayed up
        greet = [greeted[c] - arrived[c] for c in arrived if c in greeted]
        out["incoming_calls"] = INCOMING
        out["incoming_answered"] = len(rtd_ms)
        out["incoming_greeted"] = sum(1 for r in hotline.records if r.said)  # the call flow, not "busy"
        out["invite_to_200ok_s"] = {"p50": _pct(rtd_ms, 0.5), "max": _pct(rtd_ms, 1.0)}
        out["invite_to_greeting_audio_s"] = {
            "p50": _pct(greet, 0.5),
            "max": _pct(greet, 1.0),
            "n": len(greet),
        }
    finally:
        await caller.stop()
        await endpoint.stop()
        await asyncio.to_thread(phone.hangup)
        phone.wait(10)
        app.db.dispose()
        if out.get("outbound_ended_early") or out.get("outbound_answered") != OUTBOUND:
            out["phone_log_tail"] = phone.log()[-1500:]
        shutil.rmtree(tmp, ignore_errors=True)
    return out


async def _sipp_calls(tmp: Path, port: int) -> list[float]:
    """SIPp places INCOMING calls one a second, each held 3 s; returns INVITE → 200 OK per call (s)."""
    from tests.phone.caller import free_port

    scenario = tmp / "answer_time.xml"
    scenario.write_text(
        SCENARIO.read_text(encoding="utf-8").replace(
            '<pause milliseconds="20000"/>', '<pause milliseconds="3000"/>'
        ),
        encoding="utf-8",
    )
    proc = await asyncio.create_subprocess_exec(
        "sipp",
        f"127.0.0.1:{port}",
        "-sf",
        str(scenario),
        "-s",
        "lianhu",
        "-i",
        "127.0.0.1",
        "-p",
        str(free_port()),
        "-mp",
        str(free_port()),
        "-m",
        str(INCOMING),
        "-r",
        "1",
        "-l",
        "3",
        "-nostdin",
        "-timeout",
        "60s",
        "-trace_rtt",
        "-rtt_freq",
        "1",
        cwd=str(tmp),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await proc.wait()
    values: list[float] = []
    for path in tmp.glob("answer_time_*_rtt.csv"):
        with path.open(newline="") as f:
            for row in csv.reader(f, delimiter=";"):
                if len(row) >= 2 and row[1].replace(".", "", 1).isdigit():
                    values.append(float(row[1]) / 1000)
    return values
