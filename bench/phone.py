"""Phone bench: caller's end of speech → first audio of the reply (p50/p95), and how many calls the
line holds at once with recognition running (SIPp load). `python -m bench.phone` prints JSON."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests/phone/sipp/hold_call.xml"
REQUESTS = (
    "req01_water_pipe.ogg",
    "req02_lighting.ogg",
    "req04_noise.ogg",
    "req07_drain.ogg",
    "req10_sanitation.ogg",
    "req03_elevator.ogg",
)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3)


def _hurried(voice: Any) -> int:
    return voice.batcher.hurried if voice.batcher else 0


def run(calls: int = 6, load: tuple[int, ...] = (10, 14)) -> dict[str, Any]:
    """Latency over `calls` spoken calls (2 at a time); then SIPp waves of `load` simultaneous calls."""
    if not shutil.which("baresip") or not shutil.which("sipp"):
        return {"skipped": "baresip / sipp not installed (scripts/system-deps.sh test)"}
    return asyncio.run(_run(calls, load))


async def _run(calls: int, load: tuple[int, ...]) -> dict[str, Any]:
    from bot.app import build_app, load_demo_if_empty
    from bot.channels.phone.hotline import Hotline
    from bot.channels.phone.sip import SipEndpoint
    from core.settings import load_settings
    from tests.phone.caller import Phone, free_port, silence
    from tests.phone.pcap import write_pcap
    from tests.phone.test_agi import fixture_pcm8k
    from voice.service import build_voice_service

    tmp = Path(tempfile.mkdtemp(prefix="lianhu-bench-phone-"))
    port = free_port()
    settings = load_settings(
        ROOT / "config.yaml", environ={"LIANHU_DATABASE_URL": f"sqlite:///{tmp}/bench.db"}
    )
    settings = settings.with_overrides(
        phone=dataclasses.replace(
            settings.phone, sip_listen=f"127.0.0.1:{port}", max_calls=max(max(load), settings.phone.max_calls)
        )
    )
    app = build_app(settings)
    load_demo_if_empty(app)
    voice = build_voice_service(settings)
    hotline = Hotline(app, voice)
    endpoint = SipEndpoint(hotline, settings.phone.sip_listen)
    await endpoint.start()
    uri = f"sip:lianhu@127.0.0.1:{port}"
    out: dict[str, Any] = {"targets": {"reply_latency_p50_s": 1.2, "simultaneous_calls": 10}}
    try:
        # 1. Latency: real baresip callers speak a request; timing is taken on our side of the line.
        latencies: list[float] = []
        recog: list[float] = []
        for start in range(0, calls, 2):
            phones = []
            for i in range(start, min(calls, start + 2)):
                mic = silence(1.5) + fixture_pcm8k(REQUESTS[i % len(REQUESTS)]) + silence(14)
                phone = Phone(tmp / f"call{i}", f"1390000{i:04d}", mic)
                phone.dial(uri, max_seconds=40)
                phones.append(phone)
            await asyncio.sleep(2)
            for phone in phones:
                await asyncio.to_thread(phone.wait, 60)
        await asyncio.sleep(1)
        for rec in hotline.records:
            latencies += rec.reply_latencies
            recog += rec.recognize_seconds
        out["reply_latency_s"] = {
            "p50": _pct(latencies, 0.5),
            "p95": _pct(latencies, 0.95),
            "n": len(latencies),
        }
        out["recognition_s"] = {"p50": _pct(recog, 0.5), "p95": _pct(recog, 0.95), "n": len(recog)}
        # 2. Concurrency: SIPp places N calls at once, each speaking a real request (G.711 µ-law RTP
        # from a pcap built from the natural-voice fixture), then holding the line.
        speech = silence(1.0) + fixture_pcm8k(REQUESTS[1]) + silence(1.0)
        pcap = write_pcap(tmp / "request.pcap", speech)
        scenario = tmp / "speak_and_hold.xml"
        scenario.write_text(
            SCENARIO.read_text(encoding="utf-8").replace("/usr/share/sip-tester/g711a.pcap", str(pcap)),
            encoding="utf-8",
        )
        waves = []
        for n in load:
            before, hurried_before = len(hotline.records), _hurried(voice)
            peak, lag = 0, 0.0

            async def watch() -> None:
                # Also how late the event loop wakes up: a stall here is a gap in every call's prompt.
                nonlocal peak, lag
                while True:
                    peak = max(peak, hotline.active)
                    t = time.monotonic()
                    await asyncio.sleep(0.02)
                    lag = max(lag, time.monotonic() - t - 0.02)

            watcher = asyncio.ensure_future(watch())
            t0 = time.monotonic()
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
                str(n),
                "-l",
                str(n),
                "-r",
                str(n),
                "-nostdin",
                "-timeout",
                "90s",
                "-trace_stat",
                "-stf",
                str(tmp / f"stat{n}.csv"),
                cwd=str(tmp),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await proc.wait()
            watcher.cancel()
            await asyncio.sleep(1)
            recs = hotline.records[before:]
            waves.append(
                {
                    "offered": n,
                    "sipp_ok": proc.returncode == 0,
                    "peak_active": peak,
                    "calls_recorded": len(recs),
                    "recognitions": sum(len(r.recognize_seconds) for r in recs),
                    "recognized_calls": sum(any(h.startswith("speech:") for h in r.heard) for r in recs),
                    "recognize_p50_s": _pct([x for r in recs for x in r.recognize_seconds], 0.5),
                    "recognize_p95_s": _pct([x for r in recs for x in r.recognize_seconds], 0.95),
                    "recognize_max_s": _pct([x for r in recs for x in r.recognize_seconds], 1.0),
                    "reply_latency_p50_s": _pct([x for r in recs for x in r.reply_latencies], 0.5),
                    "reply_latency_p95_s": _pct([x for r in recs for x in r.reply_latencies], 0.95),
                    "reply_latency_max_s": _pct([x for r in recs for x in r.reply_latencies], 1.0),
                    "early_kept": sum(r.early_kept for r in recs),  # recognitions started at a pause and used
                    "early_dropped": sum(r.early_dropped for r in recs),
                    "hurried": _hurried(voice) - hurried_before,  # decoded greedily: the queue was long
                    "max_tick_lag_s": round(lag, 3),
                    "load_average": round(os.getloadavg()[0], 2),
                    "errors": sum(r.outcome == "error" for r in recs),
                    "wall_s": round(time.monotonic() - t0, 1),
                }
            )
            if n == 10:  # ten callers speaking at once
                waves[-1]["targets"] = {"reply_latency_p50_s": 1.5, "reply_latency_p95_s": 2.5}
        out["load"] = waves
        held = [
            w["offered"]
            for w in waves
            if w["sipp_ok"]
            and w["peak_active"] >= w["offered"]
            and not w["errors"]
            and w["recognized_calls"] >= w["offered"]
        ]
        out["simultaneous_calls_held"] = max(held, default=0)
    finally:
        await endpoint.stop()
        app.db.dispose()
    return out


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
