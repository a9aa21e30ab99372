"""Notices and votes across channels: the web JSON API on a real server (with its outbox worker), and
WeChat with documented payloads replayed (the WeChat API is a local recorder)."""

from __future__ import annotations

import itertools
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import App
from bot.server import create_server
from tests.bot.test_http import base_url, token_for  # noqa: F401 - the real-server fixture
from tests.channels import wechat_payloads as wx
from tests.channels.conftest import bind
from tests.channels.test_wechat import post as wechat_post
from tests.channels.test_wechat import reply_text

_ids = itertools.count(1)


def say(base: str, token: str, text: str) -> str:
    r = httpx.post(
        f"{base}/api/chat",
        headers={"Authorization": f"Bearer {token}"},
        json={"msg_id": f"n{next(_ids)}", "text": text},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return "\n".join(m["text"] for m in r.json()["replies"])


def pushed(base: str, token: str, count: int) -> list[dict]:  # type: ignore[type-arg]
    """Wait until the outbox worker has delivered `count` messages to this inbox."""
    deadline = time.monotonic() + 15
    while True:
        r = httpx.get(
            f"{base}/api/messages", params={"after": 0}, headers={"Authorization": f"Bearer {token}"}
        )
        messages = r.json()["messages"]
        if len(messages) >= count or time.monotonic() > deadline:
            return list(messages)
        time.sleep(0.1)


@pytest.mark.slow
def test_notice_and_vote_over_the_web_api(app: App, base_url: str) -> None:  # noqa: F811
    leader, wang = token_for(app, "demo:leader1"), token_for(app, "demo:resident1")
    assert "共 12 户" in say(base_url, leader, "通知：明天上午 9 点到 12 点停水")
    assert "通知 1 已发出" in say(base_url, leader, "1")
    [notice] = pushed(base_url, wang, 1)
    assert "停水" in notice["text"] and notice["choices"] == [{"digit": "1", "label": "收到"}]
    assert "收到了" in say(base_url, wang, "1")
    say(base_url, leader, "加装电梯方案：1 同意 2 不同意 3 弃权，周五 18 点截止")
    assert "议事 2 已发出" in say(base_url, leader, "1")
    consult = pushed(base_url, wang, 2)[-1]
    assert [c["label"] for c in consult["choices"]] == ["同意", "不同意", "弃权"]
    assert "不同意" in say(base_url, wang, "2")
    assert "已改为：同意" in say(base_url, wang, "投票 2 改成 1")
    tally = say(base_url, leader, "议事 2 情况")
    assert "已投票 1 户" in tally and "同意 1 票，不同意 0 票" in tally
    assert "没有权限" in say(base_url, wang, "议事 2 情况")
    assert "只有联户长" in say(base_url, wang, "通知：明天停电")


@pytest.fixture
def client(wechat_app: App):  # type: ignore[no-untyped-def]
    with TestClient(create_server(wechat_app, workers=False)) as c:
        yield c


def sent_to(recorder, openid: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        c.json()["text"]["content"]
        for c in recorder.find("/cgi-bin/message/custom/send")
        if c.json()["touser"] == openid
    ]


def test_notice_and_vote_over_wechat(client: TestClient, wechat_app: App, recorder, clock) -> None:  # type: ignore[no-untyped-def]
    bind(wechat_app, "wechat", "oLeader1", like="demo:leader1")
    bind(wechat_app, "wechat", "oWang")
    reply_text(wechat_post(client, wx.text("oWang", "你好", 8001)))  # inside the 48 h window
    back = reply_text(
        wechat_post(client, wx.text("oLeader1", "通知：周六上午大扫除，请把楼道杂物清走", 8002))
    )
    assert "大扫除" in back and "共 12 户" in back
    assert "通知 1 已发出" in reply_text(wechat_post(client, wx.text("oLeader1", "1", 8003)))
    wechat_app.dispatcher.drain()
    [notice] = sent_to(recorder, "oWang")
    assert "张桂芳通知：周六上午大扫除" in notice and "收到请回 1" in notice
    assert "收到了" in reply_text(wechat_post(client, wx.text("oWang", "1", 8004)))
    wechat_post(client, wx.text("oLeader1", "议事：换小区大门：1 换 2 不换，明天 18 点截止", 8005))
    assert "议事 2 已发出" in reply_text(wechat_post(client, wx.text("oLeader1", "1", 8006)))
    wechat_app.dispatcher.drain()
    assert "1 换 2 不换" in sent_to(recorder, "oWang")[-1]
    assert "不换" in reply_text(wechat_post(client, wx.text("oWang", "2", 8007)))
    clock.advance(days=2)
    assert wechat_app.run_scheduler_once().consultations_closed == [2]
    wechat_app.dispatcher.drain()
    result = sent_to(recorder, "oWang")[-1]
    assert "议事结果" in result and "换 0 票，不换 1 票" in result
    figures = reply_text(wechat_post(client, wx.text("oLeader1", "通知 1 情况", 8008)))
    assert "消息送到 2 户" in figures and "确认收到 2 户" in figures
