"""Telegram: updates (Bot API JSON) through a real python-telegram-bot Application whose Bot API base
URL points at a local recording server. No token, no internet."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import App
from bot.channels.flood import FloodLimiter
from bot.server import create_server
from tests.channels.conftest import bind, invitation_for
from tests.channels.recorder import Call, Recorder
from tests.conftest import Chat

TOKEN = "123456:TEST-TOKEN"
SECRET = "hook-secret"
ROOT = Path(__file__).resolve().parents[2]
VOICE_FIXTURE = ROOT / "tests/voice/fixtures/req01_water_pipe.ogg"
_ids = itertools.count(1)


def user(chat_id: int) -> dict:  # type: ignore[type-arg]
    return {"id": chat_id, "is_bot": False, "first_name": "秀英", "language_code": "zh-hans"}


def chat(chat_id: int) -> dict:  # type: ignore[type-arg]
    return {"id": chat_id, "type": "private", "first_name": "秀英"}


def text_update(chat_id: int, text: str) -> dict:  # type: ignore[type-arg]
    n = next(_ids)
    msg = {
        "message_id": 100 + n,
        "date": 1700000000 + n,
        "chat": chat(chat_id),
        "from": user(chat_id),
        "text": text,
    }
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": 5000 + n, "message": msg}


def voice_update(chat_id: int, size: int) -> dict:  # type: ignore[type-arg]
    n = next(_ids)
    voice = {
        "file_id": "VOICE_FILE_1",
        "file_unique_id": "vu1",
        "duration": 3,
        "mime_type": "audio/ogg",
        "file_size": size,
    }
    return {
        "update_id": 5000 + n,
        "message": {
            "message_id": 100 + n,
            "date": 1700000000 + n,
            "chat": chat(chat_id),
            "from": user(chat_id),
            "voice": voice,
        },
    }


def button_update(chat_id: int, data: str) -> dict:  # type: ignore[type-arg]
    n = next(_ids)
    message = {"message_id": 900 + n, "date": 1700000000, "chat": chat(chat_id), "text": "新任务"}
    return {
        "update_id": 5000 + n,
        "callback_query": {
            "id": f"cbq{n}",
            "from": user(chat_id),
            "chat_instance": "ci1",
            "data": data,
            "message": message,
        },
    }


def bot_api(rec: Recorder) -> None:
    sent = itertools.count(1)

    def message(call: Call) -> dict:  # type: ignore[type-arg]
        f = call.form()
        msg = {"message_id": next(sent), "date": int(time.time()), "chat": chat(int(f.get("chat_id", 0)))}
        msg.update(
            {"text": f["text"]}
            if "text" in f
            else {"voice": {"file_id": "V", "file_unique_id": "v", "duration": 1}}
        )
        return {"ok": True, "result": msg}

    audio = VOICE_FIXTURE.read_bytes() if VOICE_FIXTURE.exists() else b""
    rec.routes.update(
        {
            "/getMe": {
                "ok": True,
                "result": {
                    "id": 123456,
                    "is_bot": True,
                    "first_name": "联户小助手",
                    "username": "lianhu_bot",
                    "can_join_groups": False,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                },
            },
            "/sendMessage": message,
            "/sendVoice": message,
            "/answerCallbackQuery": {"ok": True, "result": True},
            "/setWebhook": {"ok": True, "result": True},
            "/deleteWebhook": {"ok": True, "result": True},
            "/getFile": {
                "ok": True,
                "result": {
                    "file_id": "VOICE_FILE_1",
                    "file_unique_id": "vu1",
                    "file_size": len(audio),
                    "file_path": "voice/file_1.oga",
                },
            },
            "/voice/file_1.oga": lambda call: (200, "application/octet-stream", audio),
        }
    )


def telegram_settings(app: App, rec: Recorder, mode: str) -> None:
    app.settings = app.settings.with_overrides(
        telegram=dataclasses.replace(
            app.settings.telegram,
            token=TOKEN,
            api_base_url=f"{rec.url}/bot",
            mode=mode,
            webhook_secret=SECRET,
            per_chat_rate=50.0,
            global_rate=500.0,
        )
    )


@pytest.fixture
def tg(app: App, recorder: Recorder) -> Iterator[TestClient]:
    bot_api(recorder)
    telegram_settings(app, recorder, "webhook")
    with TestClient(create_server(app, workers=False)) as client:
        yield client


def post(client: TestClient, update: dict) -> None:  # type: ignore[type-arg]
    resp = client.post("/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert resp.status_code == 200


def wait_sent(
    rec: Recorder, chat_id: int, count: int, endpoint: str = "/sendMessage", timeout: float = 20
) -> list[dict]:  # type: ignore[type-arg]
    deadline = time.time() + timeout
    while time.time() < deadline:
        calls = [_readable(c.form()) for c in rec.find(endpoint) if c.form().get("chat_id") == str(chat_id)]
        if len(calls) >= count:
            return calls
        time.sleep(0.05)
    raise AssertionError(f"expected {count} {endpoint} to {chat_id}, got {rec.paths()}")


def _readable(form: dict) -> dict:  # type: ignore[type-arg]
    if "reply_markup" in form:
        form["reply_markup"] = json.dumps(json.loads(form["reply_markup"]), ensure_ascii=False)
    return form


def test_start_code_report_with_buttons_and_leader_inline_accept(
    tg: TestClient, app: App, recorder: Recorder
) -> None:
    assert recorder.find("/getMe") and recorder.find("/setWebhook")
    assert recorder.find("/setWebhook")[0].form()["secret_token"] == SECRET
    code = invitation_for(app)
    post(tg, text_update(555, f"/start {code}"))
    bound = wait_sent(recorder, 555, 1)[-1]
    assert "绑定成功" in bound["text"]
    assert "【1】" in bound["reply_markup"]  # the main menu as big buttons
    post(tg, text_update(555, "我家水管漏水了"))
    confirm = wait_sent(recorder, 555, 2)[-1]
    assert (
        "水管漏水" in confirm["text"]
        and "【1】对" in confirm["reply_markup"]
        and "【2】不对" in confirm["reply_markup"]
    )
    bind(app, "telegram", "777", like="demo:leader1")
    post(tg, text_update(555, "【1】对"))
    created = wait_sent(recorder, 555, 3)[-1]["text"]
    number = re.search(r"单号 (\d+)", created).group(1)  # type: ignore[union-attr]
    app.dispatcher.drain()
    task = wait_sent(recorder, 777, 1)[-1]
    assert number in task["text"] and f"accept:{number}" in task["reply_markup"]
    post(tg, button_update(777, f"accept:{number}"))
    done = wait_sent(recorder, 777, 2)[-1]
    assert "已接单" in done["text"] and number in done["text"]
    assert recorder.find("/answerCallbackQuery")
    # the resident hears about it on Telegram, through the outbox
    app.dispatcher.drain()
    assert any(number in m["text"] for m in wait_sent(recorder, 555, 4))


def test_webhook_refuses_a_wrong_secret_and_unbound_users_only_bind(
    tg: TestClient, app: App, recorder: Recorder
) -> None:
    resp = tg.post(
        "/telegram", json=text_update(999, "我家水管漏水了"), headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
    )
    assert resp.status_code == 403
    post(tg, text_update(999, "我家水管漏水了"))
    assert "邀请码" in wait_sent(recorder, 999, 1)[-1]["text"]


def test_resident_cannot_press_a_leaders_button(tg: TestClient, app: App, recorder: Recorder) -> None:
    bind(app, "telegram", "556")
    Chat(app, "demo:resident2").say("我家水管漏水了")
    number = re.search(r"单号 (\d+)", Chat(app, "demo:resident2").say("对")).group(1)  # type: ignore[union-attr]
    post(tg, button_update(556, f"accept:{number}"))
    assert "权限" in wait_sent(recorder, 556, 1)[-1]["text"]


def test_polling_mode(app: App, recorder: Recorder) -> None:
    bot_api(recorder)
    telegram_settings(app, recorder, "polling")
    pending = [text_update(558, "你好")]

    def updates(call: Call) -> dict:  # type: ignore[type-arg]
        out, pending[:] = list(pending), []
        if not out:
            time.sleep(0.2)
        return {"ok": True, "result": out}

    recorder.routes["/getUpdates"] = updates
    with TestClient(create_server(app, workers=False)):
        assert wait_sent(recorder, 558, 1)[-1]["text"]
    assert recorder.find("/deleteWebhook")


@pytest.mark.slow
@pytest.mark.skipif(not VOICE_FIXTURE.exists(), reason="voice fixtures not present")
def test_voice_note_is_recognized_and_answered_with_voice(
    tg: TestClient, app: App, recorder: Recorder
) -> None:
    bind(app, "telegram", "557")
    post(tg, voice_update(557, VOICE_FIXTURE.stat().st_size))
    reply = wait_sent(recorder, 557, 1, timeout=60)[-1]
    assert "水管" in reply["text"], reply
    assert recorder.find("/getFile") and [
        c for c in recorder.find("/voice/file_1.oga") if "/file/bot" in c.path
    ]
    voice = wait_sent(recorder, 557, 1, endpoint="/sendVoice", timeout=60)[-1]
    assert voice["voice"].startswith("<file")


def test_flood_limiter_spaces_messages() -> None:
    now = [0.0]
    limiter = FloodLimiter(per_chat_rate=1.0, global_rate=30.0, now=lambda: now[0])
    assert [round(limiter.reserve("1"), 3) for _ in range(3)] == [0.0, 1.0, 2.0]
    delays = [limiter.reserve(str(100 + i)) for i in range(60)]
    assert max(delays) == pytest.approx((3 + 59) / 30.0, abs=0.01)  # 30/s overall
    assert all(b - a == pytest.approx(1 / 30.0) for a, b in itertools.pairwise(delays))
    now[0] = 10.0
    assert limiter.reserve("1") == 0.0
