"""A local HTTP server standing in for a platform's API: records every call, answers from a table."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded or JSON body as a flat dict."""
        ctype = self.headers.get("content-type", "")
        if "json" in ctype:
            return {k: v if isinstance(v, str) else json.dumps(v) for k, v in (self.json() or {}).items()}
        if "multipart" in ctype:
            return _multipart(self.body, ctype)
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}


Responder = Callable[[Call], tuple[int, str, bytes]]


@dataclass
class Recorder:
    """routes: path suffix → responder (status, content type, body) or a JSON-able value."""

    routes: dict[str, Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    url: str = ""

    def paths(self) -> list[str]:
        return [c.path for c in self.calls]

    def find(self, suffix: str) -> list[Call]:
        return [c for c in self.calls if c.path.endswith(suffix)]

    def respond(self, call: Call) -> tuple[int, str, bytes]:
        for suffix, answer in sorted(self.routes.items(), key=lambda kv: -len(kv[0])):
            if call.path.endswith(suffix):
                if callable(answer):
                    result = answer(call)
                    if isinstance(result, tuple):
                        return result
                    answer = result
                return 200, "application/json", json.dumps(answer).encode()
        return 404, "application/json", b'{"errcode": 404, "errmsg": "not recorded"}'


def serve(recorder: Recorder) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            call = Call(
                self.command,
                parts.path,
                {k: v[0] for k, v in parse_qs(parts.query).items()},
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            recorder.calls.append(call)
            status, ctype, payload = recorder.respond(call)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server


def _multipart(body: bytes, ctype: str) -> dict[str, str]:
    boundary = ctype.split("boundary=")[1].strip('"').encode()
    out: dict[str, str] = {}
    for chunk in body.split(b"--" + boundary):
        head, _, data = chunk.partition(b"\r\n\r\n")
        if b'name="' not in head:
            continue
        name = head.split(b'name="')[1].split(b'"')[0].decode()
        data = data.rstrip(b"\r\n")
        if b"filename=" in head:
            out[name] = f"<file {len(data)} bytes>"
        else:
            out[name] = data.decode("utf-8", "replace")
    return out
