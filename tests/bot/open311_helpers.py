"""Open311 test helpers: keys, a webhook receiver (a real local HTTP server), spec field lists."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.app import App
from data.services.integrators import create_key, set_webhook

# The fields of the spec's own example answers (GeoReport v2), in the spec's order.
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
POSTED_FIELDS = ["service_request_id", "service_notice", "account_id"]


def new_key(app: App, name: str = "12345平台", scopes: tuple[str, ...] = ("write",), rate: int = 1000) -> str:
    with app.db.session() as s:
        key, _ = create_key(app.context(s), name, scopes, rate)
    return key


def hook(app: App, key: str, url: str) -> str:
    from data.services.integrators import key_for

    with app.db.session() as s:
        ctx = app.context(s)
        info = key_for(ctx, key)
        assert info is not None
        secret = set_webhook(ctx, info, url)
    assert secret
    return secret


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An integrator's webhook endpoint: records every POST; `status` is what it answers."""

    calls: list[Received] = field(default_factory=list)
    status: int = 200
    url: str = ""
    server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append(Received(dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
