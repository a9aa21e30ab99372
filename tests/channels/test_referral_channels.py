"""The resource path on real channels: the web JSON API over a real HTTP server, and a WeChat replay
(documented XML payloads in, API calls to the local recorder) where the provider binds with its own
invitation code like any role holder."""

from __future__ import annotations

import dataclasses
import re
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import App
from bot.server import create_server
from data.models import Referral, Ticket
from data.registry import create_invitation
from tests.channels import wechat_payloads as wx
from tests.channels.conftest import LiveServer, bind, web_token
from tests.channels.test_wechat import post as wx_post
from tests.channels.test_wechat import reply_text
from tests.conftest import Chat

NO = re.compile(r"单号 (\d{6})")
PROVIDER = "demo:provider-handyman_volunteers"


def say(live: LiveServer, token: str, text: str, msg_id: str) -> str:
    r = httpx.post(
        f"{live.url}/api/chat",
        json={"msg_id": msg_id, "text": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return "\n".join(m["text"] for m in r.json()["replies"])


def pushed(live: LiveServer, token: str, wanted: str) -> list[str]:
    """The identity's pushed messages, once one containing `wanted` has arrived (the server's own
    outbox worker delivers them)."""
    deadline = time.time() + 15
    texts: list[str] = []
    while time.time() < deadline:
        r = httpx.get(
            f"{live.url}/api/messages", params={"after": 0}, headers={"Authorization": f"Bearer {token}"}
        )
        texts = [m["text"] for m in r.json()["messages"]]
        if any(wanted in t for t in texts):
            return texts
        time.sleep(0.2)
    raise AssertionError(f"no pushed message with {wanted!r}: {texts}")


def referral_of(app: App, no: str) -> Referral:
    with app.db.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.public_no == no))
        r = s.scalar(select(Referral).where(Referral.ticket_id == t.id))
        s.expunge(r)
        return r


@pytest.mark.slow
def test_resource_path_over_the_web_api(app: App, live: LiveServer) -> None:
    resident, leader, provider = (web_token(app, ref) for ref in ("demo:resident1", "demo:leader1", PROVIDER))
    meals = say(live, resident, "有没有送饭的", "w1")
    assert "幸福里老年食堂" in meals and "提前一天打电话订餐" in meals
    say(live, resident, "我家水管漏水了", "w2")
    no = NO.search(say(live, resident, "1", "w3")).group(1)
    suggestion = [t for t in pushed(live, leader, "可以转介") if no in t and "可以转介" in t]
    assert "2 党员便民维修志愿队" in suggestion[0]
    assert "没有找到" in say(live, provider, f"接单 {no}", "p0")
    assert "已转介给 党员便民维修志愿队" in say(live, leader, f"转介 {no} 2", "l1")
    assert any(no in t for t in pushed(live, provider, "转介任务"))
    assert "已接单" in say(live, provider, f"接单 {no}", "p1")
    assert "已办结" in say(live, provider, f"办结 {no} 换了阀门", "p2")
    told = pushed(live, resident, "满意请按 1")
    assert any("党员便民维修志愿队 已经接单" in t for t in told)
    assert "谢谢" in say(live, resident, "1", "w4")
    r = referral_of(app, no)
    assert (r.status, r.rating) == ("resolved", 1)
    # an activity over the same API
    assert "活动已发布" in say(live, leader, "发起活动 健康讲座；11月5日上午9点；社区活动室；30人", "l2")
    assert any("健康讲座" in t for t in pushed(live, resident, "社区活动"))
    assert "报名成功" in say(live, resident, "报名", "w5")


def test_resource_path_on_a_wechat_replay(wechat_app: App, recorder) -> None:  # type: ignore[no-untyped-def]
    # answers in the webhook's own reply even on a loaded test machine (the late path has its own test)
    wechat_app.settings = wechat_app.settings.with_overrides(
        wechat=dataclasses.replace(wechat_app.settings.wechat, reply_timeout_seconds=30)
    )
    bind(wechat_app, "wechat", "oResident")
    with wechat_app.db.session() as s:
        code = create_invitation(wechat_app.context(s), "08512000015")  # 党员便民维修志愿队's phone
    assert code
    with TestClient(create_server(wechat_app, workers=False)) as client:
        assert "绑定成功" in reply_text(wx_post(client, wx.text("oProvider", code, 8001)))
        answer = reply_text(wx_post(client, wx.text("oResident", "哪里可以托管娃儿", 8002)))
        assert "四点半课堂" in answer and "1 帮我登记" in answer
        reply_text(wx_post(client, wx.text("oResident", "我家水管漏水了", 8003)))
        no = NO.search(reply_text(wx_post(client, wx.text("oResident", "对", 8004)))).group(1)
        assert "没有找到" in reply_text(wx_post(client, wx.text("oProvider", f"接单 {no}", 8005)))
        Chat(wechat_app, "demo:leader1").say(f"转介 {no} 2")
        wechat_app.dispatcher.drain()
        to_provider = [  # a task goes out as the task template message
            c.json()["data"]
            for c in recorder.find("/cgi-bin/message/template/send")
            if c.json()["touser"] == "oProvider"
        ]
        assert to_provider and to_provider[-1]["keyword1"]["value"] == no
        assert "转介任务" in to_provider[-1]["keyword2"]["value"]
        assert "王秀英" not in to_provider[-1]["keyword2"]["value"]
        assert "已接单" in reply_text(wx_post(client, wx.text("oProvider", f"接单 {no}", 8006)))
        assert "已办结" in reply_text(wx_post(client, wx.text("oProvider", f"办结 {no} 修好了", 8007)))
        wechat_app.dispatcher.drain()
        to_resident = [
            c.json()["text"]["content"]
            for c in recorder.find("/cgi-bin/message/custom/send")
            if c.json()["touser"] == "oResident"
        ]
        assert any("党员便民维修志愿队 已经接单" in t for t in to_resident)
        assert any("满意请按 1" in t for t in to_resident)
        assert "谢谢" in reply_text(wx_post(client, wx.text("oResident", "1", 8008)))
    assert referral_of(wechat_app, no).rating == 1
