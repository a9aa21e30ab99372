"""logging.format: json — one JSON object a line, a turn's id, channel, action and timings; phone
numbers masked as in plain text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import setup_logging


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    setup_logging("INFO", mask_phones=True, fmt="json")
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_turn_is_one_json_line_with_id_channel_action_and_timings(json_logs, chat) -> None:  # type: ignore[no-untyped-def]
    json_logs.truncate(0)
    json_logs.seek(0)
    chat("demo:resident1").say("我家水管漏水了")
    chat("demo:resident1").say("1")
    turns = [r for r in lines(json_logs) if r["logger"] == "lianhu.engine" and "turn_id" in r]
    assert len(turns) == 2
    first, second = turns
    assert first["channel"] == "demo" and first["action"].startswith("report")
    assert len(first["turn_id"]) == 12 and first["turn_id"] != second["turn_id"]
    assert first["turn_id"] in first["msg"] and first["level"] == "INFO" and first["ts"].endswith("+00:00")
    assert set(first["ms"]) == {"total", "db", "nlu"} and 0 < first["ms"]["nlu"] <= first["ms"]["total"]
    assert isinstance(first["identity"], int) and "->" in first["state"]


def test_phone_numbers_are_masked_in_json_lines(json_logs) -> None:  # type: ignore[no-untyped-def]
    log = logging.getLogger("lianhu.phone")
    log.info("call from %s", "13800000502")
    try:
        raise ValueError("caller 028-8765 4321 and 13900001234 hung up")
    except ValueError:
        log.exception("call failed for 13900001234")
    records = lines(json_logs)
    assert records[0]["msg"] == "call from 138****0502"
    assert records[1]["msg"] == "call failed for 139****1234"
    assert "13900001234" not in records[1]["exc"] and "139****1234" in records[1]["exc"]


def test_masking_keeps_ids_and_catches_country_codes() -> None:
    from bot.logs import mask

    assert mask("turn f08472671367 then 13800000502") == "turn f08472671367 then 138****0502"
    assert mask("来电 +8613900001234，+86 13900001234") == "来电 +86139****1234，+86 139****1234"
    assert mask("座机 02887654321 单号a13800000502b") == "座机 0288****321 单号a13800000502b"
