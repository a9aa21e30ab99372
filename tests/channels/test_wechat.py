"""WeChat webhook: documented XML payloads signed (and AES-encrypted) here, API calls to a local recorder."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import App
from bot.server import create_server
from data.models import OutboxMessage, Ticket
from tests.channels import wechat_payloads as wx
from tests.channels.conftest import bind, identity_row, invitation_for


def post(client: TestClient, xml: str, nonce: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        "/wechat", params=wx.query(nonce=nonce), content=xml.encode(), headers={"Content-Type": "text/xml"}
    )


def reply_text(resp) -> str:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.text)
    assert root.findtext("MsgType") == "text"
    return root.findtext("Content") or ""


def tickets(app: App) -> int:
    with app.db.session() as s:
        return s.scalar(select(func.count(Ticket.id))) or 0


@pytest.fixture
def client(wechat_app: App):  # type: ignore[no-untyped-def]
    with TestClient(create_server(wechat_app, workers=False)) as c:
        yield c


def test_url_verification(client: TestClient) -> None:
    q = wx.query()
    assert client.get("/wechat", params={**q, "echostr": "echo123"}).text == "echo123"
    bad = {**q, "signature": "0" * 40, "echostr": "echo123"}
    assert client.get("/wechat", params=bad).status_code == 403


def test_forged_signature_is_403_and_processes_nothing(client: TestClient, wechat_app: App) -> None:
    xml = wx.text("oForger", "我家水管漏水了", 9001)
    resp = client.post(
        "/wechat", params={**wx.query(), "signature": wx.sha1_sign("wrong", "1", "2")}, content=xml
    )
    assert resp.status_code == 403
    forged_key = wx.query(token="not-the-token")
    assert client.post("/wechat", params=forged_key, content=xml).status_code == 403
    assert identity_row(wechat_app, "wechat", "oForger") is None


def test_report_delivered_three_times_makes_one_ticket(client: TestClient, wechat_app: App) -> None:
    bind(wechat_app, "wechat", "oResident1")
    first = reply_text(post(client, wx.text("oResident1", "我家水管漏水了", 1001)))
    assert "水管漏水" in first and "1 对" in first
    before = tickets(wechat_app)
    answers = [reply_text(post(client, wx.text("oResident1", "对", 1002), nonce=str(n))) for n in range(3)]
    assert tickets(wechat_app) == before + 1
    assert answers[0] == answers[1] == answers[2]
    number = re.search(r"单号 (\d+)", answers[0])
    assert number, answers[0]
    status = reply_text(post(client, wx.text("oResident1", "我报的事情咋样了", 1003)))
    assert number.group(1) in status


@pytest.fixture
def safe_client(wechat_safe_app: App):  # type: ignore[no-untyped-def]
    with TestClient(create_server(wechat_safe_app, workers=False)) as c:
        yield c


def test_safe_mode_round_trip(safe_client: TestClient, wechat_safe_app: App) -> None:
    client = safe_client
    bind(wechat_safe_app, "wechat", "oSafe")
    ts, nonce = str(int(time.time())), "246813579"
    body, msg_sig = wx.encrypt(wx.text("oSafe", "我报的事情咋样了", 2001), ts, nonce)
    params = {**wx.query(ts, nonce), "encrypt_type": "aes", "msg_signature": msg_sig}
    resp = client.post("/wechat", params=params, content=body)
    assert resp.status_code == 200
    root = ET.fromstring(resp.text)
    encrypted = root.findtext("Encrypt") or ""
    assert root.findtext("MsgSignature") == wx.sha1_sign(
        wx.TOKEN, root.findtext("TimeStamp") or "", root.findtext("Nonce") or "", encrypted
    )
    inner = ET.fromstring(wx.decrypt(encrypted))
    assert inner.findtext("ToUserName") == "oSafe"
    assert inner.findtext("Content")
    # the same encrypted body with a tampered msg_signature is refused
    bad = {**params, "msg_signature": "f" * 40}
    assert client.post("/wechat", params=bad, content=body).status_code == 403


def test_subscribe_welcomes_and_binds_with_invitation_code(client: TestClient, wechat_app: App) -> None:
    welcome = reply_text(post(client, wx.event("oNew", "subscribe")))
    assert "邀请码" in welcome
    # an unbound user gets only help and binding: no ticket from a request
    assert "邀请码" in reply_text(post(client, wx.text("oNew", "我家水管漏水了", 3001)))
    assert tickets(wechat_app) == 0
    code = invitation_for(wechat_app)
    assert "绑定成功" in reply_text(post(client, wx.text("oNew", code, 3002)))
    assert identity_row(wechat_app, "wechat", "oNew").resident_id is not None  # type: ignore[union-attr]
    # unsubscribe is acknowledged with nothing to say
    assert post(client, wx.event("oNew", "unsubscribe", create_time=1700000100)).text == "success"


def test_same_resident_sees_same_tickets_on_every_channel(client: TestClient, wechat_app: App, chat) -> None:  # type: ignore[no-untyped-def]
    demo = chat("demo:resident1")
    demo.say("我家水管漏水了")
    created = demo.say("对")
    number = re.search(r"单号 (\d+)", created).group(1)  # type: ignore[union-attr]
    bind(wechat_app, "wechat", "oSamePerson")
    assert number in reply_text(post(client, wx.text("oSamePerson", "我报的事情咋样了", 4001)))
    bind(wechat_app, "wechat", "oNeighbour", like="demo:resident2")
    assert number not in reply_text(post(client, wx.text("oNeighbour", "我报的事情咋样了", 4002)))
    assert number not in reply_text(post(client, wx.text("oNeighbour", f"查一下单号 {number}", 4003)))


def test_menu_click_location_and_voice_with_recognition(
    client: TestClient, wechat_app: App, recorder
) -> None:  # type: ignore[no-untyped-def]
    bind(wechat_app, "wechat", "oMenu")
    assert reply_text(post(client, wx.event("oMenu", "CLICK", "MENU_STATUS")))
    assert reply_text(post(client, wx.event("oMenu", "CLICK", "MENU_LEADER", create_time=1700000001)))
    assert reply_text(post(client, wx.location("oMenu", "幸福里社区3栋", 5001)))
    heard = reply_text(post(client, wx.voice("oMenu", "MEDIA_1", 5002, recognition="我家水管漏水了")))
    assert "水管漏水" in heard
    assert not recorder.find("/cgi-bin/media/get")  # WeChat's own recognition was used


def test_slow_answer_says_success_then_customer_service_message(wechat_app: App, recorder, clock) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    wechat_app.settings = wechat_app.settings.with_overrides(
        wechat=dataclasses.replace(wechat_app.settings.wechat, reply_timeout_seconds=0.3)
    )
    bind(wechat_app, "wechat", "oSlow")

    class Slow:
        def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
            self.inner = inner

        def parse(self, text):  # type: ignore[no-untyped-def]
            time.sleep(1.0)
            return self.inner.parse(text)

    wechat_app.engine.parser = Slow(wechat_app.engine.parser)
    with TestClient(create_server(wechat_app, workers=False)) as client:
        resp = post(client, wx.text("oSlow", "我家水管漏水了", 6001))
        assert resp.text == "success"
        deadline = time.time() + 10
        rows: list[OutboxMessage] = []
        while time.time() < deadline and not rows:
            time.sleep(0.1)
            with wechat_app.db.session() as s:
                rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "late_reply")))
                for r in rows:
                    s.expunge(r)
        assert len(rows) == 1 and "水管漏水" in rows[0].params["text"]
        # a straggling retry of the same message answers `success` and queues nothing more
        assert post(client, wx.text("oSlow", "我家水管漏水了", 6001), nonce="99").text == "success"
        stats = wechat_app.dispatcher.drain()
    assert stats.sent == 1
    sent = recorder.find("/cgi-bin/message/custom/send")
    assert sent and sent[-1].json()["touser"] == "oSlow" and "水管漏水" in sent[-1].json()["text"]["content"]
    assert sent[-1].query["access_token"] == "ACCESS_TOKEN_1"
    with wechat_app.db.session() as s:
        assert s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "late_reply")) == 1


def test_outside_48h_window_uses_template_message(
    client: TestClient, wechat_app: App, recorder, clock
) -> None:  # type: ignore[no-untyped-def]
    bind(wechat_app, "wechat", "oOld")
    bind(wechat_app, "wechat", "oLeader", like="demo:leader1")
    post(client, wx.text("oOld", "我家水管漏水了", 7001))
    reply_text(post(client, wx.text("oOld", "对", 7002)))
    wechat_app.dispatcher.drain()
    task = recorder.find("/cgi-bin/message/template/send")
    assert task and task[-1].json()["template_id"] == "TPL_TASK" and task[-1].json()["touser"] == "oLeader"
    clock.advance(hours=49)
    number = task[-1].json()["data"]["keyword1"]["value"]
    from tests.conftest import Chat

    Chat(wechat_app, "demo:leader1").say(f"接单 {number}")
    recorder.calls.clear()
    wechat_app.dispatcher.drain()
    updates = [
        c.json() for c in recorder.find("/cgi-bin/message/template/send") if c.json()["touser"] == "oOld"
    ]
    assert updates and updates[0]["template_id"] == "TPL_UPDATE"
    assert not [c for c in recorder.find("/cgi-bin/message/custom/send") if c.json()["touser"] == "oOld"]


def test_resubscribe_of_a_bound_user_is_greeted(client: TestClient, wechat_app: App) -> None:
    bind(wechat_app, "wechat", "oBack")
    assert "您好" in reply_text(post(client, wx.event("oBack", "subscribe")))


VOICE_FIXTURE = Path(__file__).resolve().parents[2] / "tests/voice/fixtures/req01_water_pipe.ogg"


@pytest.mark.slow
@pytest.mark.skipif(not VOICE_FIXTURE.exists(), reason="voice fixtures not present")
def test_voice_without_recognition_fetches_amr_and_answers_by_voice(wechat_app: App, recorder) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from voice import codecs

    amr = codecs.encode(codecs.decode(VOICE_FIXTURE.read_bytes(), "ogg"), "amr")
    recorder.routes["/cgi-bin/media/get"] = lambda call: (200, "audio/amr", amr)
    wechat_app.settings = wechat_app.settings.with_overrides(
        wechat=dataclasses.replace(wechat_app.settings.wechat, reply_timeout_seconds=60)
    )
    bind(wechat_app, "wechat", "oVoice")
    with TestClient(create_server(wechat_app, workers=False)) as client:
        heard = reply_text(post(client, wx.voice("oVoice", "MEDIA_AMR_1", 8001)))
        assert "水管" in heard, heard
        got = recorder.find("/cgi-bin/media/get")
        assert got and got[0].query["media_id"] == "MEDIA_AMR_1"
        deadline = time.time() + 60
        while time.time() < deadline and not recorder.find("/cgi-bin/message/custom/send"):
            time.sleep(0.1)
    assert recorder.find("/cgi-bin/media/upload")[0].query["type"] == "voice"
    spoken = recorder.find("/cgi-bin/message/custom/send")[0].json()
    assert spoken == {"touser": "oVoice", "msgtype": "voice", "voice": {"media_id": "MEDIA_UP_1"}}


def test_wechat_menu_command_pushes_the_configured_menu(recorder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import main
    from tests.channels.conftest import wechat_routes

    wechat_routes(recorder)
    for key, value in {
        "LIANHU_WECHAT_APP_ID": wx.APP_ID,
        "LIANHU_WECHAT_APP_SECRET": wx.APP_SECRET,
        "LIANHU_WECHAT_API_BASE_URL": recorder.url,
    }.items():
        monkeypatch.setenv(key, value)
    assert main(["wechat-menu"]) == 0
    token_call = recorder.find("/cgi-bin/token")[0]
    assert token_call.query == {
        "grant_type": "client_credential",
        "appid": wx.APP_ID,
        "secret": wx.APP_SECRET,
    }
    buttons = recorder.find("/cgi-bin/menu/create")[0].json()["button"]
    assert [b["name"] for b in buttons] == ["反映问题", "查询进度", "找联户长"]
    assert all(b["type"] == "click" and b["key"].startswith("MENU_") for b in buttons)


def test_api_retries_busy_and_refreshes_an_expired_token(recorder) -> None:  # type: ignore[no-untyped-def]
    from bot.channels.wechat_api import WechatApi
    from tests.channels.conftest import wechat_routes

    wechat_routes(recorder)
    answers = iter(
        [
            {"errcode": -1, "errmsg": "system busy"},
            {"errcode": 42001, "errmsg": "access_token expired"},
            {"errcode": 0, "errmsg": "ok"},
        ]
    )
    recorder.routes["/cgi-bin/message/custom/send"] = lambda call: next(answers)
    api = WechatApi(recorder.url, wx.APP_ID, wx.APP_SECRET, sleep=lambda s: None)
    api.send_text("oX", "你好")
    assert len(recorder.find("/cgi-bin/token")) == 2  # fetched, then refreshed once after 42001
    assert len(recorder.find("/cgi-bin/message/custom/send")) == 3
    api.close()
