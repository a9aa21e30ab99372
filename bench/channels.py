"""WeChat webhook text turns at 50 concurrent senders on SQLite, beside the same server's bare /healthz
throughput (the ceiling). A real uvicorn server in its own process on 127.0.0.1, an async httpx client.
`python -m bench.channels` prints JSON."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SENDERS = 50
TOKEN = "benchtoken"
TURNS = ("我家水管漏水了", "对", "我报的事情咋样了")  # report, confirm (creates a ticket), status
TARGET_P99_MS = 100.0
TARGET_SHARE = 0.5


def _env(db: Path) -> dict[str, str]:
    # Metrics as `python -m bot serve` keeps them: in files shared by the processes (multiprocess mode).
    (db.parent / "metrics").mkdir(exist_ok=True)
    return {
        "PROMETHEUS_MULTIPROC_DIR": str(db.parent / "metrics"),
        **os.environ,
        "LIANHU_DATABASE_URL": f"sqlite:///{db}",
        "LIANHU_WECHAT_TOKEN": TOKEN,
        "LIANHU_WECHAT_API_BASE_URL": "http://127.0.0.1:9",
        "LIANHU_LOGGING_LEVEL": "WARNING",
        "LIANHU_PATHS_VAR_DIR": str(db.parent),
    }


def prepare(db: Path) -> None:
    """Demo community plus SENDERS WeChat followers, each bound to a different resident."""
    from sqlalchemy import select

    from bot.app import build_app, load_demo_if_empty
    from core.settings import load_settings
    from data.models import Resident
    from data.services.directory import get_or_create_identity

    settings = load_settings(ROOT / "config.yaml", environ=_env(db))
    app = build_app(settings)
    load_demo_if_empty(app)
    with app.db.session() as s:
        ctx = app.context(s)
        residents = list(s.scalars(select(Resident.id).order_by(Resident.id).limit(SENDERS)))
        for i, rid in enumerate(residents):
            get_or_create_identity(ctx, "wechat", f"oBench{i:03d}").resident_id = rid
    app.db.dispose()


def serve(port: int, workers: int) -> None:
    """The server as `python -m bot serve` runs it (`workers` processes on one socket), without the
    background jobs."""
    import uvicorn

    from bot.app import build_app
    from bot.processes import bind, run_workers
    from bot.server import create_server
    from core.settings import load_settings

    settings = load_settings(ROOT / "config.yaml")

    def worker(_index: int, sock: socket.socket) -> None:
        app = build_app(settings, migrate=False)
        config = uvicorn.Config(
            create_server(app, workers=False, freeze_gc=True), log_level="warning", access_log=False
        )
        uvicorn.Server(config).run(sockets=[sock])

    run_workers(bind("127.0.0.1", port), workers, worker)


def _sign(timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted((TOKEN, timestamp, nonce))).encode()).hexdigest()


def _xml(openid: str, text: str, msg_id: int) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


async def _paced(url: str, seconds: float, make: Any, interval: float) -> tuple[list[float], int]:
    """SENDERS open-loop clients, each sending one message every `interval` seconds (a person typing
    or tapping); staggered starts. Latency under a realistic offered load, not at saturation.
    Clients are created and connected before the clock starts: building 50 httpx clients (SSL contexts)
    blocks the client's event loop and would be counted as server latency."""
    latencies: list[float] = []
    errors = 0
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for _ in range(SENDERS)]
    await asyncio.gather(*(c.get("/healthz") for c in clients))
    start = time.perf_counter()

    async def sender(i: int, client: httpx.AsyncClient) -> None:
        nonlocal errors
        n = 0
        while True:
            due = start + (i / SENDERS) * interval + n * interval
            if due - start >= seconds:
                return
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            method, path, kwargs = make(i, 1_000 + n)
            t0 = time.perf_counter()
            resp = await client.request(method, path, **kwargs)
            latencies.append(time.perf_counter() - t0)
            if resp.status_code != 200 or b"<Content>" not in resp.content:
                errors += 1
            n += 1

    try:
        await asyncio.gather(*(sender(i, c) for i, c in enumerate(clients)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return latencies, errors


async def _load(url: str, seconds: float, make: Any) -> tuple[list[float], int]:
    """SENDERS closed-loop clients for `seconds`; returns latencies (s) and the error count.

    One httpx client (one keep-alive connection) per sender, created and connected before the clock
    starts: a single client shared by 50 tasks spends more CPU in its pool than the server answering.
    """
    latencies: list[float] = []
    errors = 0
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for _ in range(SENDERS)]
    await asyncio.gather(*(c.get("/healthz") for c in clients))
    stop = time.perf_counter() + seconds

    async def sender(i: int, client: httpx.AsyncClient) -> None:
        nonlocal errors
        n = 0
        while time.perf_counter() < stop:
            method, path, kwargs = make(i, n)
            t0 = time.perf_counter()
            resp = await client.request(method, path, **kwargs)
            latencies.append(time.perf_counter() - t0)
            if resp.status_code != 200 or (path == "/wechat" and b"<Content>" not in resp.content):
                errors += 1
            n += 1

    try:
        await asyncio.gather(*(sender(i, c) for i, c in enumerate(clients)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return latencies, errors


_MSG_IDS = itertools.count(10_000_000)


def _wechat_request(i: int, n: int) -> tuple[str, str, dict[str, Any]]:
    ts, nonce = str(int(time.time())), f"{i:03d}{n:07d}"  # i=1,n=12 and i=11,n=2 must not share one
    params = {"signature": _sign(ts, nonce), "timestamp": ts, "nonce": nonce, "openid": f"oBench{i:03d}"}
    msg_id = next(_MSG_IDS)  # never a repeat: a redelivered MsgId is answered from the log, far cheaper
    return (
        "POST",
        "/wechat",
        {"params": params, "content": _xml(f"oBench{i:03d}", TURNS[n % len(TURNS)], msg_id)},
    )


def _summary(latencies: list[float], errors: int, seconds: float) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    return {
        "requests": len(ms),
        "errors": errors,
        "per_second": round(len(ms) / seconds, 1),
        "p50_ms": round(q[49], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(ms[-1], 1),
    }


def _workers() -> int:
    from core.settings import load_settings

    return max(1, load_settings(ROOT / "config.yaml").server.workers)


def _cpu_seconds(pid: int) -> float:
    """CPU time of the server: the process and its worker processes."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    total = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _phase(pid: int, url: str, seconds: float, make: Any) -> dict[str, Any]:
    """One load phase, with the server process's CPU time per request (what the server itself costs)."""
    cpu0 = _cpu_seconds(pid)
    result = _summary(*asyncio.run(_load(url, seconds, make)), seconds)
    cpu = _cpu_seconds(pid) - cpu0
    result["server_cpu_ms_per_request"] = round(1000 * cpu / max(1, result["requests"]), 2)
    result["server_capacity_per_cpu_second"] = round(result["requests"] / cpu, 1) if cpu else None
    return result


def _median_phase(pid: int, url: str, seconds: float, make: Any, runs: int = 3) -> dict[str, Any]:
    """The phase `runs` times (a shared 2-core VM drifts by ±20 % between runs): the median run, with
    every run's rate beside it."""
    results = sorted(
        (_phase(pid, url, seconds / runs, make) for _ in range(runs)), key=lambda r: r["per_second"]
    )
    median = results[len(results) // 2]
    median["runs_per_second"] = [r["per_second"] for r in results]
    return median


def run(seconds: float = 15.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        prepare(db)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        workers = _workers()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.channels", "--serve", str(port), str(workers)],
            env=_env(db),
            cwd=ROOT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("bench server did not start")
                time.sleep(0.2)
            asyncio.run(_load(url, 3.0, _wechat_request))  # warm-up (model, connections, SQLite pages)
            ceiling = _median_phase(proc.pid, url, seconds / 2, lambda i, n: ("GET", "/healthz", {}))
            wechat = _median_phase(proc.pid, url, seconds, _wechat_request)
            paced = {
                f"every_{iv:g}s": _summary(*asyncio.run(_paced(url, seconds, _wechat_request, iv)), seconds)
                for iv in (2.0, 1.0)
            }
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    share = wechat["per_second"] / ceiling["per_second"] if ceiling["per_second"] else 0.0
    cap_w, cap_h = wechat["server_capacity_per_cpu_second"], ceiling["server_capacity_per_cpu_second"]
    return {
        "senders": SENDERS,
        "database": "sqlite",
        "server_workers": workers,
        "turns": list(TURNS),
        "wechat_text_turn": wechat,
        "wechat_paced_senders": paced,
        "healthz_ceiling": ceiling,
        "share_of_ceiling": round(share, 3),
        "share_of_ceiling_by_server_cpu": round(cap_w / cap_h, 3) if cap_w and cap_h else None,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "targets": {
            "p99_ms": TARGET_P99_MS,
            "share_of_ceiling": TARGET_SHARE,
            "p99_met_paced_50_senders": paced["every_1s"]["p99_ms"] <= TARGET_P99_MS,
            "p99_met_saturated_50_senders": wechat["p99_ms"] <= TARGET_P99_MS,
            "share_met": share >= TARGET_SHARE,
        },
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    else:
        print(json.dumps(run(), ensure_ascii=False, indent=2))
