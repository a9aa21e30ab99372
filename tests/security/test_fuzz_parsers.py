"""Property-based fuzzing (Hypothesis) of every parser the outside world reaches: each input is either
taken or refused with the parser's own typed error (answered 4xx), never anything else.

Examples are bounded so the whole file runs in seconds; `LIANHU_FUZZ_EXAMPLES` raises the count."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from fastapi import HTTPException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram import MalformedUpdate, read_update
from bot.channels.web import check_msg_id, loads_bounded, message_id
from bot.channels.web_page import _out
from bot.channels.wechat_xml import MalformedMessage, read_message, text_reply
from core.errors import AudioError
from data.importer import ImportFailed, read_rows, validate

EXAMPLES = int(os.environ.get("LIANHU_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)

# -- WeChat XML -----------------------------------------------------------------------------------
WECHAT_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event", "EventKey",
                 "MediaId", "Format", "Recognition", "Label", "Location_X")  # fmt: skip
field_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["text", "event", "voice", "location", "subscribe", "CLICK", "1700000000", "-1", "abc", ""]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@st.composite
def wechat_xml(draw: st.DrawFn) -> str:
    fields = draw(st.dictionaries(st.sampled_from(WECHAT_FIELDS), field_values, max_size=8))
    cdata = draw(st.booleans())
    inner = "".join(
        f"<{k}><![CDATA[{v.replace(']]>', '')}]]></{k}>" if cdata else f"<{k}>{escape(v)}</{k}>"
        for k, v in fields.items()
    )
    return f"<xml>{inner}</xml>"


@FUZZ
@given(st.one_of(wechat_xml(), st.text(max_size=200)))
def test_wechat_messages_are_read_or_refused(xml: str) -> None:
    try:
        message, received = read_message(xml)
    except MalformedMessage:
        return
    assert str(message.source).strip() and received.year >= 1970


@FUZZ
@given(st.text(max_size=300), st.text(max_size=40))
def test_wechat_reply_keeps_one_text_element_whatever_it_says(text: str, openid: str) -> None:
    root = ET.fromstring(text_reply(openid, "gh_lianhu", text))
    assert [c.tag for c in root] == ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"]
    assert root.findtext("MsgType") == "text"


# -- Telegram update JSON -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bot():  # type: ignore[no-untyped-def]
    from telegram import Bot

    return Bot("123456:TEST-TOKEN-for-fuzzing")  # never started: no network


@st.composite
def telegram_updates(draw: st.DrawFn) -> object:
    chat = draw(
        st.fixed_dictionaries({"id": st.integers(), "type": st.sampled_from(["private", "group", 5])})
    )
    message = draw(
        st.fixed_dictionaries(
            {"message_id": st.integers(), "date": st.integers(min_value=-(2**40), max_value=2**40), "chat": st.just(chat)},
            optional={"text": st.text(max_size=30), "voice": json_values, "from": json_values, "reply_markup": json_values},
        )
    )  # fmt: skip
    update = {"update_id": draw(st.integers(min_value=-(2**64), max_value=2**64))}
    key = draw(st.sampled_from(["message", "callback_query", "edited_message", "x"]))
    update[key] = (
        message if key != "callback_query" else {"id": "1", "data": draw(json_values), "message": message}
    )
    return draw(st.one_of(st.just(update), json_values))


@FUZZ
@given(st.one_of(telegram_updates().map(lambda u: json.dumps(u).encode()), st.binary(max_size=200)))
def test_telegram_updates_are_read_or_refused(bot, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    try:
        update = read_update(raw, bot)
    except MalformedUpdate:
        return
    assert isinstance(update.update_id, int)


# -- chat JSON --------------------------------------------------------------------------------------
@FUZZ
@given(st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)))
def test_chat_bodies_parse_or_are_refused(raw: bytes) -> None:
    try:
        body = loads_bounded(raw, 8)
    except ValueError:
        return
    if isinstance(body, dict):
        try:
            check_msg_id(body.get("msg_id"))
            for item in body.get("messages") or [] if isinstance(body.get("messages"), list) else []:
                _out(item)
        except HTTPException as err:
            assert 400 <= err.status_code < 500


@FUZZ
@given(st.one_of(st.text(max_size=30), st.integers().map(str), st.none()))
def test_message_ids_are_numbers_or_400(value: str | None) -> None:
    try:
        assert 0 <= message_id(value, "after") <= 2**62
    except HTTPException as err:
        assert err.status_code == 400


# -- registry import --------------------------------------------------------------------------------
HEADER = "楼栋,单元,房号,姓名,电话,出生年份,角色,网格,联户单元\n"
csv_cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(st.lists(csv_cells, min_size=1, max_size=10), max_size=6).map(
            lambda rows: (HEADER + "\n".join(",".join(r) for r in rows)).encode()
        ),
    ),
    st.sampled_from([".csv", ".xlsx"]),
)
def test_registry_files_are_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str
) -> None:
    path = Path(tmp_path_factory.mktemp("import")) / f"registry{suffix}"
    path.write_bytes(data)
    try:
        rows = read_rows(path)
    except ImportFailed as err:
        assert err.problems
        return
    for problem in validate(rows):
        assert problem.line >= 1 and problem.reason


# -- audio headers ----------------------------------------------------------------------------------
MAGIC = [b"", b"RIFF\x24\x00\x00\x00WAVEfmt ", b"OggS\x00\x02", b"#!AMR\n", b"ID3\x03\x00", b"\x1aE\xdf\xa3",
         b"\xff\xfb\x90\x00", b"\x00\x00\x00\x18ftypmp42"]  # fmt: skip


@settings(max_examples=max(20, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(MAGIC),
    st.binary(max_size=400),
    st.sampled_from(["webm", "ogg", "mp4", "wav", "mp3", "amr", None]),
)
def test_audio_is_decoded_or_refused(magic: bytes, tail: bytes, hint: str | None) -> None:
    from voice import codecs

    try:
        pcm = codecs.decode(magic + tail, hint, max_seconds=5, max_bytes=4096)
    except AudioError:
        return
    assert len(pcm) % 2 == 0
