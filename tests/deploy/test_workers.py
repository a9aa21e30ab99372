"""The scale path under a crash: PostgreSQL, two server workers and two dispatch workers, residents
filing reports over WeChat while one server worker is killed with SIGKILL. WeChat re-posts what got no
answer; afterwards every message was answered once, every ticket filed once, and every notification
delivered once (WeChat's API is a local stand-in that records each call)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from bot.app import build_app, load_demo_if_empty
from core.settings import load_settings
from data.db import normalize_url
from data.models import Resident, Staff
from data.services.directory import get_or_create_identity
from tests.bot.test_cli import free_port, wait_healthy
from tests.channels import wechat_payloads as wx
from tests.channels.conftest import wechat_routes
from tests.channels.recorder import Recorder, serve
from tests.conftest import PG_URL, ROOT, reset_postgres

SENDERS = 10
REPORTS = ("我家水管漏水了", "楼道的灯坏了", "垃圾好几天没人收了", "电梯坏了")
FILED = re.compile(r"已登记，单号 (\d{6})")
WORKER = re.compile(r"server worker (\d) started \(pid (\d+)\)")

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def wechat_api() -> Iterator[Recorder]:
    rec = Recorder()
    wechat_routes(rec)
    server = serve(rec)
    yield rec
    server.shutdown()
    server.server_close()


class Processes:
    """Started processes, their output kept; all stopped at the end."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.procs, self.lines = env, [], []  # type: ignore[var-annotated]

    def start(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()
        self.procs.append(proc)
        return proc

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)

    def workers(self) -> dict[int, int]:
        """Server worker index -> pid, the latest start of each."""
        found: dict[int, int] = {}
        for line in list(self.lines):
            m = WORKER.search(line)
            if m:
                found[int(m.group(1))] = int(m.group(2))
        return found

    def stop(self) -> list[int | None]:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        return [proc.wait(timeout=60) for proc in self.procs]


def post(base: str, openid: str, msg_id: int, words: str, retries: list[int]) -> str:
    """One message, delivered the way WeChat does: re-posted until it is answered."""
    xml = wx.text(openid, words, msg_id, create_time=int(time.time())).encode()
    for attempt in range(60):
        try:
            with httpx.Client(timeout=10) as http:
                resp = http.post(f"{base}/wechat", params=wx.query(nonce=f"n{msg_id}a{attempt}"), content=xml)
            if resp.status_code == 200:
                if resp.text == "success":
                    return ""  # answered later, through the outbox
                return ET.fromstring(resp.text).findtext("Content") or ""
        except httpx.HTTPError:
            pass
        retries.append(msg_id)
        time.sleep(0.2)
    raise AssertionError(f"message {msg_id} was never answered")


def prepare(env: dict[str, str], parser) -> None:  # type: ignore[no-untyped-def]
    """Demo community; residents follow on WeChat, and every staff member too (tasks go both ways)."""
    settings = load_settings(ROOT / "config.yaml", environ=env)
    app = build_app(settings, parser=parser)
    load_demo_if_empty(app)
    with app.db.session() as s:
        ctx = app.context(s)
        residents = list(s.scalars(select(Resident.id).order_by(Resident.id).limit(SENDERS)))
        for i, rid in enumerate(residents):
            get_or_create_identity(ctx, "wechat", f"oRes{i}").resident_id = rid
        for staff_id in s.scalars(select(Staff.id)):
            get_or_create_identity(ctx, "wechat", f"oStaff{staff_id}").staff_id = staff_id
    app.db.dispose()


def test_two_workers_two_dispatchers_a_worker_killed_nothing_lost_nothing_twice(
    tmp_path: Path, wechat_api: Recorder, parser
) -> None:  # type: ignore[no-untyped-def]
    if not PG_URL:
        pytest.skip("LIANHU_TEST_DATABASE_URL not set")
    url = normalize_url(PG_URL)
    reset_postgres(url)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LIANHU_DATABASE_URL": url,
        "LIANHU_SERVER_PORT": str(port),
        "LIANHU_SERVER_WORKERS": "2",
        "LIANHU_WECHAT_TOKEN": wx.TOKEN,
        "LIANHU_WECHAT_APP_ID": wx.APP_ID,
        "LIANHU_WECHAT_APP_SECRET": wx.APP_SECRET,
        "LIANHU_WECHAT_API_BASE_URL": wechat_api.url,
        "LIANHU_WECHAT_TEMPLATE_ID_TASK": "tmplTask",
        "LIANHU_OUTBOX_POLL_SECONDS": "0.2",
        "LIANHU_PATHS_VAR_DIR": str(tmp_path / "var"),
        "LIANHU_LOGGING_LEVEL": "INFO",
    }
    prepare(env, parser)
    run = Processes(env)
    run.start("serve")
    run.start("dispatch")
    run.start("dispatch")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, 120)
        for _ in range(100):
            if len(run.workers()) == 2:
                break
            time.sleep(0.1)
        first = run.workers()
        assert set(first) == {0, 1}, "".join(run.lines)

        answers: dict[int, str] = {}
        retries: list[int] = []
        sent = threading.Event()

        def resident(i: int) -> None:
            for k, words in enumerate(REPORTS):
                for j, said in enumerate((words, "1", "我报的事情咋样了")):
                    msg_id = 100_000 + i * 100 + k * 10 + j
                    answers[msg_id] = post(base, f"oRes{i}", msg_id, said, retries)
                    if len(answers) == SENDERS * 3:
                        sent.set()

        threads = [threading.Thread(target=resident, args=(i,)) for i in range(SENDERS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        assert sent.wait(120)
        os.kill(first[1], signal.SIGKILL)  # worker 1 dies mid-load, with turns in flight
        killed_at = len(answers)
        for t in threads:
            t.join(timeout=300)
        load_seconds = time.monotonic() - started
        assert not any(t.is_alive() for t in threads)
        assert run.workers()[1] != first[1], "the killed worker was not started again"

        engine = create_engine(url)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as c:
                if not c.execute(text("select count(*) from outbox where status = 'pending'")).scalar():
                    break
            time.sleep(0.3)
    finally:
        codes = run.stop()
    assert codes[0] == 0, "".join(run.lines[-40:])

    with engine.connect() as c:
        processed = c.execute(text("select count(*) from processed_messages")).scalar()
        tickets = c.execute(text("select public_no, reporter_identity_id, item from tickets")).all()
        outbox = c.execute(text("select channel, status, kind from outbox")).all()
        pushed = c.execute(text("select count(*) from pushed_messages")).scalar()
    engine.dispose()

    # Every message answered once: one dedupe record each, whatever the re-posts.
    assert len(answers) == SENDERS * len(REPORTS) * 3 and processed == len(answers)
    # Every report filed once: each "filed, number N" answer names its own ticket, and every ticket
    # was told to its resident (in the passive reply, or through the outbox when it came late).
    numbers = {t.public_no for t in tickets}
    told = [m.group(1) for a in answers.values() for m in [FILED.search(a)] if m]
    late = [c.json()["text"]["content"] for c in wechat_api.find("/cgi-bin/message/custom/send")]
    told += [m.group(1) for content in late for m in [FILED.search(content)] if m]
    assert sorted(told) == sorted(numbers) and len(numbers) == len(tickets) >= SENDERS * 2
    assert len({(t.reporter_identity_id, t.item) for t in tickets}) == len(tickets)
    # Every notification delivered once: nothing pending or given up, each call to WeChat unique.
    assert Counter(o.status for o in outbox) == {"sent": len(outbox)}
    wechat_rows = [o for o in outbox if o.channel == "wechat"]
    calls = wechat_api.find("/message/template/send") + wechat_api.find("/message/custom/send")
    bodies = Counter(json.dumps(c.json(), sort_keys=True, ensure_ascii=False) for c in calls)
    assert len(calls) == len(wechat_rows) and max(bodies.values()) == 1
    assert pushed == len(outbox) - len(wechat_rows)
    print(
        f"\n{len(answers)} messages from {SENDERS} residents in {load_seconds:.1f} s, worker 1 killed after "
        f"{killed_at}; {len(set(retries))} messages re-posted ({len(retries)} re-posts); {len(tickets)} tickets, "
        f"{len(outbox)} notifications ({len(wechat_rows)} to WeChat), each delivered once"
    )
