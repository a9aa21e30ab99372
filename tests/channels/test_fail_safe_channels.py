"""Fail safe on the real channels: the web API over HTTP and WeChat's documented XML replayed."""

from __future__ import annotations

import itertools
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import App
from bot.server import create_server
from data.models import Ticket
from tests.bot.test_http import base_url, token_for  # noqa: F401 - the real-server fixture
from tests.channels import wechat_payloads as wx
from tests.channels.conftest import bind
from tests.channels.test_wechat import post as wechat_post
from tests.channels.test_wechat import reply_text

NO = re.compile(r"单号 (\d{6})")
_ids = itertools.count(1)


def say(base: str, token: str, text: str) -> str:
    r = httpx.post(
        f"{base}/api/chat",
        headers={"Authorization": f"Bearer {token}"},
        json={"msg_id": f"fs{next(_ids)}", "text": text},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return "\n".join(m["text"] for m in r.json()["replies"])


def kinds(app: App) -> list[tuple[str, bool]]:
    with app.db.session() as s:
        return [(t.kind, t.urgent) for t in s.scalars(select(Ticket).order_by(Ticket.id))]


@pytest.mark.slow
def test_web_api_alerts_asks_passes_on_and_keeps_what_was_pending(app, base_url) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    li = token_for(app, "demo:resident2")
    assert "紧急" in say(base_url, li, "我男人又动手了，把我脑壳打破了")
    assert "您现在有危险吗" in say(base_url, li, "这日子过不下去了")
    assert "紧急" in say(base_url, li, "1")
    wang = token_for(app, "demo:resident1")
    assert "水管漏水" in say(base_url, wang, "我家水管漏水了")
    assert "路灯楼道灯损坏" in say(base_url, wang, "还有，楼道的灯也坏了好几天了")
    back = say(base_url, wang, "对")
    assert NO.search(back) and "我们接着刚才的" in back and "水管漏水" in back
    assert NO.search(say(base_url, wang, "对"))
    assert "帮不上" in say(base_url, wang, "阿巴阿巴 咕噜咕噜")
    assert "转给联户长" in say(base_url, wang, "呜哩哇啦 叽里咕噜")
    assert "转给联户长张桂芳" in say(base_url, wang, "1")
    assert kinds(app) == [
        ("request", True),
        ("request", True),
        ("request", False),
        ("request", False),
        ("message", False),
    ]


@pytest.fixture
def client(wechat_app: App):  # type: ignore[no-untyped-def]
    with TestClient(create_server(wechat_app, workers=False)) as c:
        yield c


def test_wechat_replay_alerts_asks_and_holds(client: TestClient, wechat_app: App) -> None:
    bind(wechat_app, "wechat", "oLi", like="demo:resident2")
    bind(wechat_app, "wechat", "oWang", like="demo:resident1")
    n = itertools.count(5000)

    def send(who: str, text: str) -> str:
        return reply_text(wechat_post(client, wx.text(who, text, next(n)), nonce=str(next(n))))

    assert "紧急" in send("oLi", "有人在敲我的门，说要弄死我")
    assert "紧急" in send("oLi", "老人家喘不上气，嘴唇都紫了")
    assert "您现在有危险吗" in send("oLi", "楼道灯坏了，晚上黑黢黢的，好怕")
    assert "路灯楼道灯损坏" in send("oLi", "没有没有，就是怕摔")  # answered no: goes on as meant
    assert "水管漏水" in send("oWang", "我家水管漏水了")
    assert "路灯楼道灯损坏" in send("oWang", "还有，楼道的灯也坏了好几天了")
    back = send("oWang", "1")
    assert "我们接着刚才的" in back and "水管漏水" in back
    assert [k for k in kinds(wechat_app) if k[1]] == [("request", True), ("request", True)]
