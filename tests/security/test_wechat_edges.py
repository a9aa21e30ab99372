"""Findings on /wechat: replay, stale and empty signatures, plain mode under safe mode, XML injection
in passive replies, malformed signed bodies (each answered 4xx, never 500)."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import App
from bot.channels.wechat_xml import text_reply
from bot.server import create_server
from data.models import Ticket
from tests.channels import wechat_payloads as wx
from tests.channels.conftest import bind


@pytest.fixture
def client(wechat_app: App):  # type: ignore[no-untyped-def]
    with TestClient(create_server(wechat_app, workers=False)) as c:
        yield c


def send(client: TestClient, xml: str, **query: str):  # type: ignore[no-untyped-def]
    return client.post("/wechat", params={**wx.query(), **query}, content=xml.encode())


def tickets(app: App) -> int:
    with app.db.session() as s:
        return s.scalar(select(func.count(Ticket.id))) or 0


def test_stale_future_and_empty_signatures_are_refused(client: TestClient) -> None:
    body = wx.text("oOld", "你好", 1).encode()
    old = wx.query(timestamp="1262304000")  # 2010, as the probe sent
    assert client.post("/wechat", params=old, content=body).status_code == 403
    assert client.get("/wechat", params={**old, "echostr": "e"}).status_code == 403
    ahead = wx.query(timestamp=str(int(time.time()) + 3600))
    assert client.post("/wechat", params=ahead, content=body).status_code == 403
    for empty in ("timestamp", "nonce", "signature"):
        q = wx.query()
        q[empty] = ""
        if empty != "signature":  # a signature over the empty value, as the probe sent it
            q["signature"] = wx.sha1_sign(wx.TOKEN, q["timestamp"], q["nonce"])
        assert client.post("/wechat", params=q, content=body).status_code == 403, empty


def test_reused_timestamp_and_nonce_with_another_body_is_refused(client: TestClient, wechat_app: App) -> None:
    bind(wechat_app, "wechat", "oLeader", like="demo:leader1")
    q = wx.query()
    assert (
        client.post("/wechat", params=q, content=wx.text("oLeader", "你好", 11).encode()).status_code == 200
    )
    # the captured URL reused to speak as someone else, or to say something else
    for xml in (wx.text("oLeader", "我的任务", 12), wx.text("oOther", "我家水管漏水了", 13)):
        resp = client.post("/wechat", params=q, content=xml.encode())
        assert resp.status_code == 403
        assert "任务" not in resp.text and "地址" not in resp.text


def test_same_delivery_again_is_a_retry_not_a_second_turn(client: TestClient, wechat_app: App) -> None:
    bind(wechat_app, "wechat", "oRetry")
    assert client.post("/wechat", params=wx.query(), content=wx.text("oRetry", "我家水管漏水了", 21).encode())
    q = wx.query()
    body = wx.text("oRetry", "对", 22).encode()
    before = tickets(wechat_app)
    first = client.post("/wechat", params=q, content=body)
    again = client.post("/wechat", params=q, content=body)
    assert first.status_code == again.status_code == 200
    assert tickets(wechat_app) == before + 1
    assert ET.fromstring(first.text).findtext("Content") == ET.fromstring(again.text).findtext("Content")


def test_plain_message_is_refused_when_safe_mode_is_configured(wechat_safe_app: App) -> None:
    with TestClient(create_server(wechat_safe_app, workers=False)) as client:
        resp = send(client, wx.text("oPlain", "我的任务", 31))
        assert resp.status_code == 403


def test_plain_mode_is_warned_about_at_start(wechat_app: App, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="lianhu.wechat"):
        create_server(wechat_app, workers=False)
    assert any("plain mode" in r.getMessage() and "AES" in r.getMessage() for r in caplog.records)


INJECTION = "已修好]]></Content><MsgType><![CDATA[news]]></MsgType><Content><![CDATA[点这里"


def test_reply_xml_cannot_be_broken_out_of() -> None:
    root = ET.fromstring(text_reply("oUser", "gh_x", INJECTION + "\x01\x0b&<>"))
    assert [c.tag for c in root] == ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"]
    assert root.findtext("MsgType") == "text"
    assert root.findtext("Content") == INJECTION + "&<>"


def test_staff_note_with_cdata_end_stays_one_content_element(client: TestClient, wechat_app: App) -> None:
    async def answer(_inbound, voice=None):  # type: ignore[no-untyped-def]
        return f"单号 123456 已办结：{INJECTION}"

    wechat_app.wechat.answer = answer
    resp = send(client, wx.text("oNote", "我报的事情咋样了", 41))
    root = ET.fromstring(resp.text)
    assert len(root.findall("MsgType")) == 1 and len(root.findall("Content")) == 1
    assert root.findtext("MsgType") == "text"
    assert INJECTION in (root.findtext("Content") or "")


MALFORMED = {
    "empty body": "",
    "not xml": "hello",
    "CreateTime abc": wx.text("oBad", "你好", 51).replace("1700000000", "abc"),
    "CreateTime huge": wx.text("oBad", "你好", 52).replace("1700000000", "99999999999999999"),
    "no FromUserName": wx.text("oBad", "你好", 53).replace(
        "<FromUserName><![CDATA[oBad]]></FromUserName>", ""
    ),
    "no MsgType": wx.text("oBad", "你好", 54).replace("<MsgType><![CDATA[text]]></MsgType>", ""),
    "two xml roots": "<xml></xml><xml></xml>",
    "entity bomb": '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><FromUserName>&b;</FromUserName></xml>',
}


def test_malformed_signed_bodies_are_a_plain_400(client: TestClient, wechat_app: App) -> None:
    from tests.channels.conftest import identity_row

    before = tickets(wechat_app)
    for name, xml in MALFORMED.items():
        resp = send(client, xml)
        assert 400 <= resp.status_code < 500, (name, resp.status_code)
    assert tickets(wechat_app) == before
    assert identity_row(wechat_app, "wechat", "None") is None  # no shared identity for "no sender"


def test_voice_whose_download_fails_gets_a_plain_reply(client: TestClient, wechat_app: App, recorder) -> None:  # type: ignore[no-untyped-def]
    recorder.routes["/cgi-bin/media/get"] = lambda call: (500, "text/plain", b"down")
    bind(wechat_app, "wechat", "oVoiceFail")
    resp = send(client, wx.voice("oVoiceFail", "MEDIA_GONE", 61))
    assert resp.status_code == 200
    assert "没听清楚" in (ET.fromstring(resp.text).findtext("Content") or "")
