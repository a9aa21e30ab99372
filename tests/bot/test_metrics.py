"""/metrics: Prometheus text that prometheus-client's own parser reads, counters that move with traffic,
gauges read from the database at scrape time, and who may scrape."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App
from bot.server import create_server
from core.messages import Inbound
from tests.data.test_loop import NO


def scrape(app: App, *, client: tuple[str, int] = ("127.0.0.1", 50000), **headers: str) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(create_server(app, workers=False), client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://lianhu") as http:
            return await http.get("/metrics", headers=headers)

    return asyncio.run(get())


def samples(app: App) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample on the page, keyed by name and labels, parsed by prometheus-client's parser."""
    response = scrape(app)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(page: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return page.get((name, frozenset(labels.items())), 0.0)


def turn(app: App, who: str, text: str, msg_id: str) -> Any:
    channel, _, ref = who.partition(":")
    return asyncio.run(app.turn(Inbound(channel, ref, msg_id, text)))


def test_counters_and_histograms_move_with_traffic(app: App) -> None:
    before = samples(app)
    turn(app, "demo:resident1", "我家水管漏水了", "m1")
    answer = turn(app, "demo:resident1", "1", "m2")
    assert NO.search(answer.text)
    turn(app, "demo:resident1", "1", "m2")  # a redelivery: answered from the log
    after = samples(app)

    created = value(after, "lianhu_turns_total", channel="demo", action=answer.action) - value(
        before, "lianhu_turns_total", channel="demo", action=answer.action
    )
    assert created == 1
    moved = sum(
        value(after, "lianhu_turns_total", channel="demo", action=a)
        - value(before, "lianhu_turns_total", channel="demo", action=a)
        for a in {dict(labels).get("action", "") for name, labels in after if name == "lianhu_turns_total"}
    )
    assert moved == 3
    assert (
        value(after, "lianhu_turns_total", channel="demo", action="duplicate")
        - value(before, "lianhu_turns_total", channel="demo", action="duplicate")
        == 1
    )
    count = "lianhu_turn_seconds_count"
    assert value(after, count, channel="demo") - value(before, count, channel="demo") == 3
    nlu = "lianhu_understanding_seconds_count"
    assert value(after, nlu) - value(before, nlu) == 2  # the duplicate is not understood again
    assert value(after, "lianhu_turn_seconds_bucket", channel="demo", le="+Inf") == value(
        after, count, channel="demo"
    )

    # The new ticket's task waits in the outbox until a dispatcher delivers it.
    assert value(after, "lianhu_outbox_pending") >= 1 and value(after, "lianhu_outbox_due") >= 1
    assert value(after, "lianhu_database_up") == 1
    sent = app.dispatcher.drain().sent
    drained = samples(app)
    assert (
        value(drained, "lianhu_outbox_pending") == 0
        and value(drained, "lianhu_outbox_oldest_due_seconds") == 0
    )
    assert (
        value(drained, "lianhu_deliveries_total", channel="demo")
        - value(after, "lianhu_deliveries_total", channel="demo")
        == sent
        > 0
    )


def test_outbox_age_and_emergencies_are_read_when_scraped(app: App, clock: Any) -> None:
    reply = turn(app, "demo:resident2", "我老汉儿倒在地上喊不答应了", "e1").text
    assert "120" in reply
    page = samples(app)
    assert value(page, "lianhu_emergencies_open") == 1
    assert value(page, "lianhu_emergencies_unacknowledged") == 1
    assert value(page, "lianhu_emergency_oldest_unacknowledged_seconds") == 0
    clock.advance(minutes=7)
    page = samples(app)
    assert value(page, "lianhu_emergency_oldest_unacknowledged_seconds") == 7 * 60
    assert value(page, "lianhu_outbox_oldest_due_seconds") == 7 * 60  # nobody delivered the alerts
    no = NO.search(reply).group(1)  # type: ignore[union-attr]
    assert "已接单" in turn(app, "demo:grid1", f"接单 {no}", "e2").text
    page = samples(app)
    assert value(page, "lianhu_emergencies_unacknowledged") == 0
    assert value(page, "lianhu_emergency_oldest_unacknowledged_seconds") == 0
    assert value(page, "lianhu_emergencies_open") == 1  # taken, not yet resolved


def test_failed_deliveries_calls_and_recognitions_are_counted(app: App) -> None:
    from bot.channels.phone.hotline import Hotline

    turn(app, "demo:resident1", "我家水管漏水了", "f1")
    turn(app, "demo:resident1", "1", "f2")
    with app.db.session() as s:  # the leader also follows on Telegram, and Telegram is down
        from data.services.directory import find_identity, get_or_create_identity

        leader = find_identity(app.context(s), "demo:leader1")
        assert leader is not None
        get_or_create_identity(app.context(s), "telegram", "777").staff_id = leader.staff_id
    turn(app, "demo:resident1", "我家楼道的灯坏了", "f3")
    assert NO.search(turn(app, "demo:resident1", "1", "f4").text)
    before = samples(app)
    assert app.dispatcher.drain().failed == 1  # no sender for telegram: given up at once
    hotline = Hotline(app, voice=None)  # type: ignore[arg-type]
    assert hotline.admit() and hotline.admit()
    app.metrics.recognition_waiting(1)
    app.metrics.recognized(0.4)
    during = samples(app)
    hotline.release()
    app.metrics.recognition_waiting(0)
    after = samples(app)
    failed = "lianhu_deliveries_failed_total"
    assert value(during, failed, channel="telegram") - value(before, failed, channel="telegram") == 1
    assert value(during, "lianhu_outbox_dead") == 1
    assert value(during, "lianhu_calls_in_progress") == 2 and value(after, "lianhu_calls_in_progress") == 1
    assert value(during, "lianhu_recognition_queue") == 1 and value(after, "lianhu_recognition_queue") == 0
    rec = "lianhu_recognition_seconds_bucket"
    assert value(during, rec, le="0.5") - value(before, rec, le="0.5") == 1
    assert value(during, rec, le="0.25") == value(before, rec, le="0.25")
    hotline.release()


def test_only_this_machine_or_a_token_may_scrape(app: App) -> None:
    assert scrape(app).status_code == 200
    assert scrape(app, client=("203.0.113.9", 40000)).status_code == 403
    # Through the reverse proxy the connection comes from loopback too, but says whom it forwards.
    assert scrape(app, **{"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    import dataclasses

    app.settings = app.settings.with_overrides(
        metrics=dataclasses.replace(app.settings.metrics, token="s3cret-scrape")
    )
    assert scrape(app).status_code == 401
    assert scrape(app, authorization="Bearer wrong").status_code == 401
    ok = scrape(app, client=("203.0.113.9", 40000), authorization="Bearer s3cret-scrape")
    assert ok.status_code == 200 and re.search(r"^lianhu_database_up 1", ok.text, re.M)
    app.settings = app.settings.with_overrides(
        metrics=dataclasses.replace(app.settings.metrics, enabled=False, token="")
    )
    assert scrape(app).status_code == 404
