"""`server.workers` > 1: several server processes sharing one listening socket.

The parent binds the socket, applies migrations and loads the demo once, then forks the workers; the
kernel spreads connections across them. Worker 0 also runs the background jobs (outbox dispatcher,
scheduler) and the phone line, which must exist once. A worker that dies is started again; SIGTERM or
Ctrl-C stops them all. SQLite stays correct across processes: writers queue on a file lock
(data.db.WriterLock) and every turn is one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("lianhu.server")
RESTART_DELAY_S = 1.0


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_workers(sock: socket.socket, count: int, worker: Callable[[int, socket.socket], Any]) -> int:
    """Fork `count` workers running `worker(index, sock)`; supervise them until told to stop."""
    children: dict[int, int] = {}  # pid -> worker index
    stopping = False

    def start(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            code = 0
            try:
                worker(index, sock)
            except BaseException:  # noqa: BLE001 - report, then leave without running the parent's cleanup
                log.exception("server worker %d failed", index)
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = index
        log.info("server worker %d started (pid %d)", index, pid)

    def stop(_sig: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        # Stop listening here too: once the workers close theirs, new connections are refused (a
        # proxy retries those) instead of waiting in a queue that nobody will accept from.
        sock.close()
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for index in range(count):
            start(index)
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if pid not in children:
                continue
            index = children.pop(pid)
            if stopping:
                continue
            log.error("server worker %d exited (%s); starting it again", index, status)
            time.sleep(RESTART_DELAY_S)
            if not stopping:
                start(index)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()
    return 0


def share_metrics(settings: Any) -> None:
    """Long-running processes (server workers, dispatchers, the phone line) write their figures to
    files in one folder, so /metrics, answered by any worker, adds up all of them. Must run before
    prometheus_client is first imported: it chooses where figures live at import."""
    if not settings.metrics.enabled:
        return
    if "prometheus_client" in sys.modules and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        log.warning("metrics stay in this process: prometheus_client was imported before share_metrics")
        return
    configured = settings.metrics.multiprocess_dir or f"{settings.paths.var_dir}/metrics"
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.path(configured))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    from bot.metrics import forget_dead_processes

    forget_dead_processes(str(folder))
