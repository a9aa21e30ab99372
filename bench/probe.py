"""The abuse probe of issue 24, re-run: a served Lianhu (its own process, SQLite, demo data, WeChat in
plain mode) on loopback, and the figures its targets name:

- `server_errors`: answers 500 to the malformed inputs that found them (target 0);
- `replay_refused_pct`: WeChat requests replayed, stale or unsigned-empty that were refused (target 100);
- `speak_peak_rss_mb` / `speak_rss_after_60s_mb`: the server's memory while three tokens' worth of
  /api/speak abuse runs at once, and a minute later (targets ≤ 800 MB, back to idle);
- `healthz_p99_ms`: /healthz while 100 slow clients hold connections (target ≤ 50 ms), and how many
  of those clients the server still holds after 15 s.

`python -m bench probe` probes this checkout; `python -m bench.probe SRC` probes another source tree
(e.g. `git archive <commit>` unpacked) with this checkout's venv and model caches: the "before".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
WECHAT_TOKEN = "probe-token"
SPEAK_REQUESTS = 3  # at once, each 20 messages of 2,000 characters (as the probe sent them)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Served:
    """`python -m bot serve --demo` from a source tree, in its own process, on a free port."""

    def __init__(self, src: Path, var: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cache = ROOT / "var/cache"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(src),
            "LIANHU_DATABASE_URL": f"sqlite:///{var / 'probe.db'}",
            "LIANHU_PATHS_VAR_DIR": str(var),
            "LIANHU_PATHS_RECORDINGS": str(var / "recordings"),
            "LIANHU_PATHS_NLU_MODEL_CACHE": str(cache / "nlu-model.pkl"),
            "LIANHU_PATHS_MODEL_CACHE": str(cache / "models"),
            "LIANHU_METRICS_MULTIPROCESS_DIR": str(var / "metrics"),
            "LIANHU_WECHAT_TOKEN": WECHAT_TOKEN,
            "LIANHU_WECHAT_API_BASE_URL": "http://127.0.0.1:9",
        }
        self.src = src
        self.log = open(var / "server.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--demo", "--port", str(self.port)],
            cwd=src, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError("server did not start")
        time.sleep(5)  # the speech models load in the background after start
        out = subprocess.run(
            [sys.executable, "-m", "bot", "token", "demo:resident1"],
            cwd=src, env=self.env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        self.token = out.stdout.split()[0]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _signed(ts: str | None = None, nonce: str | None = None) -> dict[str, str]:
    ts = str(int(time.time())) if ts is None else ts
    nonce = os.urandom(5).hex() if nonce is None else nonce
    sig = hashlib.sha1("".join(sorted([WECHAT_TOKEN, ts, nonce])).encode()).hexdigest()
    return {"signature": sig, "timestamp": ts, "nonce": nonce}


def _wechat_xml(sender: str, text: str, msg_id: int, create_time: str = "1700000000") -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_probe]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def server_errors(s: Served) -> dict[str, Any]:
    """The issue's nine inputs that answered 500, and a few of their kind."""
    auth = {"Authorization": f"Bearer {s.token}"}
    voice_xml = (
        b"<xml><ToUserName>gh</ToUserName><FromUserName>oProbeV</FromUserName><CreateTime>1700000000</CreateTime>"
        b"<MsgType>voice</MsgType><MediaId>GONE</MediaId><Format>amr</Format><MsgId>77</MsgId></xml>"
    )
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/wechat", {"params": _signed(), "content": b""}),
        ("POST", "/wechat", {"params": _signed(), "content": _wechat_xml("oP", "你好", 1, "abc")}),
        (
            "POST",
            "/wechat",
            {"params": _signed(), "content": _wechat_xml("oP", "你好", 2, "99999999999999999")},
        ),
        ("POST", "/wechat", {"params": _signed(), "content": voice_xml}),
        ("POST", "/api/chat", {"headers": auth, "content": b"[" * 100_000 + b"]" * 100_000}),
        ("GET", "/api/messages?after=1e23", {"headers": auth}),
        ("POST", "/api/speak", {"headers": auth, "content": b"{not json"}),
        (
            "POST",
            "/api/speak",
            {"headers": auth, "json": {"messages": [{"text": "a", "parts": [[1, 2, 3]]}]}},
        ),
        ("GET", "/api/events", {"headers": {**auth, "Last-Event-ID": "abc"}}),
        ("GET", "/api/messages?after=%C2%B2", {"headers": auth}),
        ("POST", "/api/chat", {"headers": auth, "content": b"\xff\xfe"}),
    ]
    statuses = []
    for method, path, kwargs in cases:  # a connection each: one failure must not spoil the next
        try:
            statuses.append(httpx.request(method, s.url + path, timeout=30, **kwargs).status_code)
        except httpx.HTTPError:
            statuses.append(0)  # the server dropped the connection
    return {"inputs": len(cases), "server_errors": sum(1 for c in statuses if c >= 500), "statuses": statuses}


def replays(s: Served) -> dict[str, Any]:
    """One captured request reused with other bodies, stale and empty signatures: how many refused."""
    attempts = refused = 0
    with httpx.Client(base_url=s.url, timeout=30) as http:
        captured = _signed()
        http.post("/wechat", params=captured, content=_wechat_xml("oCaptured", "你好", 100))
        tries: list[tuple[dict[str, str], bytes]] = []
        for n in range(10):  # the captured URL speaking as others, saying other things
            tries.append((captured, _wechat_xml(f"oOther{n}", "我的任务", 200 + n)))
        for n, ts in enumerate(("1262304000", str(int(time.time()) - 3600), str(int(time.time()) + 3600))):
            tries.append((_signed(ts=ts), _wechat_xml("oStale", "你好", 300 + n)))
        tries.append((_signed(ts="", nonce=""), _wechat_xml("oEmpty", "你好", 400)))
        for params, body in tries:
            attempts += 1
            refused += http.post("/wechat", params=params, content=body).status_code in (401, 403)
    return {
        "attempts": attempts,
        "refused": refused,
        "replay_refused_pct": round(100 * refused / attempts, 1),
    }


def speak_abuse(s: Served) -> dict[str, Any]:
    """Three /api/speak requests at once, each 20 messages of 2,000 characters; RSS sampled."""
    idle = _rss_mb(s.proc.pid)
    peak = [idle]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb(s.proc.pid))
            time.sleep(0.1)

    body = {"messages": [{"text": "请问社区这个月的活动安排是什么时候开始报名的呢" * 86}] * 20}
    codes: list[int] = []

    def one() -> None:
        try:
            r = httpx.post(
                f"{s.url}/api/speak", json=body, headers={"Authorization": f"Bearer {s.token}"}, timeout=300
            )
            codes.append(r.status_code)
        except httpx.HTTPError:
            codes.append(0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.monotonic()
    workers = [threading.Thread(target=one) for _ in range(SPEAK_REQUESTS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.monotonic() - t0
    time.sleep(60)
    done.set()
    return {
        "speak_statuses": codes,
        "speak_seconds": round(seconds, 1),
        "idle_rss_mb": round(idle),
        "speak_peak_rss_mb": round(peak[0]),
        "speak_rss_after_60s_mb": round(_rss_mb(s.proc.pid)),
    }


def slow_clients(s: Served) -> dict[str, Any]:
    """100 clients trickling headers a byte a second; /healthz timed meanwhile; who is still held."""
    socks = []
    for _ in range(100):
        sock = socket.create_connection(("127.0.0.1", s.port))
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        socks.append(sock)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.send(b"X")
            time.sleep(1)

    threading.Thread(target=trickle, daemon=True).start()
    times = []
    with httpx.Client(base_url=s.url, timeout=10) as http:
        for _ in range(200):
            t0 = time.perf_counter()
            http.get("/healthz")
            times.append((time.perf_counter() - t0) * 1000)
    time.sleep(max(0.0, 15 - sum(times) / 1000))
    stop.set()
    held = 0
    for sock in socks:
        sock.settimeout(0.5)
        try:
            held += sock.recv(1) != b""
        except TimeoutError:
            held += 1
        except OSError:
            pass
        sock.close()
    return {
        "healthz_p50_ms": round(statistics.median(times), 1),
        "healthz_p99_ms": round(sorted(times)[int(len(times) * 0.99) - 1], 1),
        "slow_clients_held_after_15s": held,
    }


def probe(src: Path) -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lianhu-probe-") as tmp:
        served = Served(src, Path(tmp))
        try:
            result = {"source": str(src)}
            result.update(server_errors(served))
            result.update(replays(served))
            result.update(slow_clients(served))
            result.update(speak_abuse(served))
            return result
        finally:
            served.stop()


def run() -> dict[str, Any]:
    return probe(ROOT)


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT), indent=2))
