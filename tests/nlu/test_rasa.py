"""The Rasa backend against a real local HTTP server replaying a recorded /model/parse response."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from nlu.rasa import RasaParser
from tests.nlu.conftest import CASES, CATALOG

RECORDED = json.loads((CASES / "rasa_response.json").read_text(encoding="utf-8"))


class _Handler(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.received.append({"path": self.path, "body": body})
        reply = dict(RECORDED)
        if "着火" in body["text"]:
            reply = {
                **RECORDED,
                "intent": {"name": "greet", "confidence": 0.4},
                "entities": [],
                "intent_ranking": [],
            }
        payload = json.dumps(reply, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_maps_recorded_response(server_url: str) -> None:
    parser = RasaParser(server_url, 3.0, CATALOG)
    parse = parser.parse("帮3栋502王婆婆报，厕所堵了")
    assert _Handler.received[-1] == {"path": "/model/parse", "body": {"text": "帮3栋502王婆婆报，厕所堵了"}}
    assert (parse.intent, parse.category, parse.item, parse.urgent) == (
        "report",
        "facilities",
        "drain_blocked",
        False,
    )
    assert parse.confidence == pytest.approx(0.8731)
    assert parse.entities.address is not None and parse.entities.address.room == "502"
    assert parse.entities.on_behalf == "王婆婆"
    assert [a.item for a in parse.alternatives] == ["drain_blocked", "water_pipe", None]
    parser.close()


def test_red_flags_override_remote(server_url: str) -> None:
    parse = RasaParser(server_url, 3.0, CATALOG).parse("厨房着火了")
    assert parse.intent == "emergency" and parse.urgent


def test_digits_stay_local(server_url: str) -> None:
    before = len(_Handler.received)
    parse = RasaParser(server_url, 3.0, CATALOG).parse("２")
    assert parse.entities.digit == "2" and len(_Handler.received) == before


def test_network_error_is_a_value() -> None:
    parse = RasaParser("http://127.0.0.1:9", 0.5, CATALOG).parse("水管漏水")
    assert (parse.intent, parse.confidence) == ("out_of_scope", 0.0)
