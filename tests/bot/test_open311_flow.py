"""A GeoReport v2 client over real HTTP, from listing services to following a request to closed;
the request is a normal ticket (a leader's task, the resident told) and every status change reaches
the integrator's webhook receiver (a real local HTTP server) signed, once, through the outbox."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from bot.app import App
from bot.open311.webhooks import DELIVERY, SIGNATURE, TIMESTAMP, verify
from data.models import AuditLog, OutboxMessage
from data.services.integrators import revoke_key
from tests.bot.open311_helpers import Receiver, hook, new_key
from tests.channels.conftest import LiveServer

V2 = "/open311/v2"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver().start()
    yield rec
    rec.stop()


@pytest.fixture
def http(app: App) -> Iterator[httpx.Client]:
    server = LiveServer(app, workers=False)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client
    server.stop()


def events(receiver: Receiver, secret: str) -> list[tuple[str, str]]:
    """(event, GeoReport status) of every call received, each checked for a valid signature."""
    out = []
    for call in receiver.calls:
        assert verify(secret, call.headers[TIMESTAMP], call.body, call.headers[SIGNATURE]), call.headers
        assert not verify("another secret", call.headers[TIMESTAMP], call.body, call.headers[SIGNATURE])
        payload = call.json()
        out.append((payload["event"], payload["service_request"]["status"]))
    return out


@pytest.mark.slow
def test_a_client_follows_a_request_to_closed(app: App, http: httpx.Client, receiver: Receiver, chat) -> None:  # type: ignore[no-untyped-def]
    key = new_key(app, "街道12345平台")
    registered = http.post(f"{V2}/webhooks.json", data={"api_key": key, "url": receiver.url})
    assert registered.status_code == 200, registered.text
    secret = registered.json()["secret"]
    assert len(secret) == 64

    services = http.get(f"{V2}/services.json").json()
    code = next(s["service_code"] for s in services if s["service_name"] == "水管漏水")
    (definition,) = http.get(f"{V2}/services/{code}.json").json()["attributes"]
    posted = http.post(
        f"{V2}/requests.json",
        data={
            "api_key": key,
            "service_code": code,
            "address_string": "3栋2单元502",
            "phone": "+86 138-0000-0502",  # 王秀英's registered number
            "description": "12345 来电：厨房水管漏水",
            f"attribute[{definition['code']}]": definition["values"][0]["key"],
        },
    )
    assert posted.status_code == 201, posted.text
    rid = posted.json()[0]["service_request_id"]

    leader = chat("demo:leader1")
    assert f"单号 {rid}" in leader.say("我的任务")  # a normal task for the unit's leader
    app.dispatcher.drain()
    assert events(receiver, secret) == [("created", "open")]

    leader.say(f"接单 {rid}")
    app.dispatcher.drain()
    (request,) = http.get(f"{V2}/requests/{rid}.json").json()
    assert request["status"] == "open" and request["status_notes"] == "已接单"

    leader.say(f"办结 {rid} 已经修好了")
    app.dispatcher.drain()
    (request,) = http.get(f"{V2}/requests/{rid}.json").json()
    assert request["status"] == "closed" and request["status_notes"] == "已办结：已经修好了"
    assert request["expected_datetime"] is None
    assert [
        r["service_request_id"] for r in http.get(f"{V2}/requests.json", params={"status": "closed"}).json()
    ] == [rid]

    assert events(receiver, secret) == [("created", "open"), ("accepted", "open"), ("resolved", "closed")]
    assert len({c.headers[DELIVERY] for c in receiver.calls}) == 3
    for call in receiver.calls:  # the payload is a public view: no names, phones or rooms
        public = call.body.decode().replace(f'"{rid}"', '"<id>"')  # a random id may itself hold 502
        for personal in ("王秀英", "13800000502", "502"):
            assert personal not in public
    resident_inbox = " ".join(chat("demo:resident1").inbox())
    assert rid in resident_inbox  # the resident matched by phone hears progress like any report

    app.dispatcher.drain()
    assert len(receiver.calls) == 3  # never twice
    with app.db.session() as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.action.like("%.%"))))
    assert {"api_key.create", "webhook.register", "open311.post"} <= set(actions)


def free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_a_dead_endpoint_does_not_block_others(app: App, http: httpx.Client, receiver: Receiver) -> None:
    flaky = Receiver(status=500).start()
    try:
        dead_secret = hook(app, new_key(app, "已下线的平台"), f"http://127.0.0.1:{free_port()}/hook")
        live_secret = hook(app, new_key(app, "区平台"), receiver.url)
        flaky_secret = hook(app, new_key(app, "偶尔出错的平台"), flaky.url)
        writer = new_key(app)
        rid = http.post(
            f"{V2}/requests.json",
            data={"api_key": writer, "service_code": "lighting", "address_string": "5栋"},
        ).json()[0]["service_request_id"]
        app.dispatcher.drain()
        assert events(receiver, live_secret) == [("created", "open")]
        assert len(flaky.calls) == 1
        flaky.status = 200
        max_attempts = app.settings.outbox.max_attempts
        for _ in range(max_attempts + 2):
            app.clock.advance(hours=12)  # type: ignore[attr-defined]
            app.dispatcher.drain()
        assert len(receiver.calls) == 1  # delivered once, never again
        assert events(flaky, flaky_secret)[-1] == ("created", "open") and len(flaky.calls) == 2
        with app.db.session() as s:
            rows = {
                r.identity_id: r
                for r in s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
            }
        statuses = sorted((r.status, r.attempts) for r in rows.values())
        assert statuses == [("dead", max_attempts), ("sent", 1), ("sent", 2)]
        assert dead_secret != live_secret and rid
    finally:
        flaky.stop()


def test_a_revoked_key_gets_no_more_calls(app: App, http: httpx.Client, receiver: Receiver) -> None:
    key = new_key(app)
    hook(app, key, receiver.url)
    post = {"api_key": key, "service_code": "noise", "address_string": "3栋2单元"}
    assert http.post(f"{V2}/requests.json", data=post).status_code == 201
    with app.db.session() as s:
        revoke_key(app.context(s), "1")
    app.dispatcher.drain()
    assert receiver.calls == []
    with app.db.session() as s:
        (row,) = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
        assert row.status == "dead" and "WebhookGone" in row.last_error
