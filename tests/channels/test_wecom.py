"""Leaders' tasks as WeCom application messages, sent to a local server that records WeCom's API calls."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

from bot.channels import wecom
from tests.channels.conftest import bind

ROOT = Path(__file__).resolve().parents[2]


def test_task_goes_out_as_an_application_message(app, recorder, chat) -> None:  # type: ignore[no-untyped-def]
    recorder.routes.update(
        {
            "/cgi-bin/gettoken": {
                "errcode": 0,
                "errmsg": "ok",
                "access_token": "CORP_TOKEN",
                "expires_in": 7200,
            },
            "/cgi-bin/message/send": {"errcode": 0, "errmsg": "ok", "msgid": "m1"},
        }
    )
    app.settings = app.settings.with_overrides(
        wechat=dataclasses.replace(
            app.settings.wechat,
            wecom_enabled=True,
            wecom_corp_id="ww123",
            wecom_agent_id=1000002,
            wecom_secret="s3cret",
            wecom_api_base_url=recorder.url,
        )
    )
    wecom.register(app)
    bind(app, "wecom", "zhangguifang", like="demo:leader1")
    r1 = chat("demo:resident1")
    r1.say("我家水管漏水了")
    r1.say("对")
    app.dispatcher.drain()
    token_call = recorder.find("/cgi-bin/gettoken")[0]
    assert token_call.query == {"corpid": "ww123", "corpsecret": "s3cret"}
    sent = recorder.find("/cgi-bin/message/send")
    assert len(sent) == 1 and sent[0].query["access_token"] == "CORP_TOKEN"
    body = sent[0].json()
    assert body["touser"] == "zhangguifang" and body["agentid"] == 1000002 and body["msgtype"] == "text"
    assert "新任务" in body["text"]["content"]


def test_link_command(tmp_path: Path) -> None:
    env = {**os.environ, "LIANHU_DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}", "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--demo", "--as", "demo:leader1"],
        cwd=ROOT,
        env=env,
        input="/quit\n",
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    out = subprocess.run(
        [sys.executable, "-m", "bot", "link", "wecom:zhangguifang", "demo:leader1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "now acts as demo:leader1" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "link", "wecom:x", "demo:nobody"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
