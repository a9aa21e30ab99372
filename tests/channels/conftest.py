"""Channel fixtures: a recording stand-in for platform APIs, apps with channel settings, bindings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.app import App
from data.models import Identity
from data.registry import create_invitation
from data.services.directory import find_identity, get_or_create_identity
from tests.channels import wechat_payloads as wx
from tests.channels.recorder import Recorder, serve


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    server = serve(rec)
    yield rec
    server.shutdown()
    server.server_close()


def wechat_routes(rec: Recorder) -> None:
    rec.routes.update(
        {
            "/cgi-bin/token": {"access_token": "ACCESS_TOKEN_1", "expires_in": 7200},
            "/cgi-bin/message/custom/send": {"errcode": 0, "errmsg": "ok"},
            "/cgi-bin/message/template/send": {"errcode": 0, "errmsg": "ok", "msgid": 200228332},
            "/cgi-bin/media/upload": {"type": "voice", "media_id": "MEDIA_UP_1", "created_at": 1700000000},
            "/cgi-bin/menu/create": {"errcode": 0, "errmsg": "ok"},
        }
    )


@pytest.fixture
def wechat_app(app: App, recorder: Recorder) -> App:
    wechat_routes(recorder)
    app.settings = app.settings.with_overrides(
        wechat=dataclasses.replace(
            app.settings.wechat,
            token=wx.TOKEN,
            app_id=wx.APP_ID,
            app_secret=wx.APP_SECRET,
            api_base_url=recorder.url,
            template_id_update="TPL_UPDATE",
            template_id_task="TPL_TASK",
        )
    )
    return app


@pytest.fixture
def wechat_safe_app(wechat_app: App) -> App:
    """Safe mode (安全模式): messages arrive AES-encrypted, plain ones are refused."""
    wechat_app.settings = wechat_app.settings.with_overrides(
        wechat=dataclasses.replace(wechat_app.settings.wechat, aes_key=wx.AES_KEY)
    )
    return wechat_app


def bind(app: App, channel: str, external: str, like: str = "demo:resident1") -> int:
    """Bind a channel account to the same person as a demo identity (as an approved binding would)."""
    with app.db.session() as s:
        ctx = app.context(s)
        model = find_identity(ctx, like)
        assert model is not None
        ident = get_or_create_identity(ctx, channel, external)
        ident.resident_id, ident.staff_id = model.resident_id, model.staff_id
        return ident.id


def invitation_for(app: App, like: str = "demo:resident1") -> str:
    from data.models import Resident

    with app.db.session() as s:
        ctx = app.context(s)
        ident = find_identity(ctx, like)
        assert ident is not None and ident.resident_id is not None
        phone = s.get(Resident, ident.resident_id).phone  # type: ignore[union-attr]
        code = create_invitation(ctx, phone)
    assert code
    return code


def identity_row(app: App, channel: str, external: str) -> Identity | None:
    with app.db.session() as s:
        row = s.scalar(select(Identity).where(Identity.channel == channel, Identity.external_id == external))
        if row is not None:
            s.expunge(row)
        return row


class LiveServer:
    """The real ASGI server (uvicorn) on 127.0.0.1 in a background thread."""

    def __init__(self, app: App, workers: bool = True) -> None:
        import socket
        import threading

        import uvicorn

        from bot.edge import server_config
        from bot.server import create_server

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = server_config(create_server(app, workers=workers), app.settings, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        import time

        deadline = time.time() + 20
        while not self.server.started and time.time() < deadline:
            time.sleep(0.05)
        assert self.server.started, "server did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def live(app: App) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    import shutil

    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not __import__("os").path.exists(path):
        pytest.skip("Debian chromium not installed (scripts/system-deps.sh test)")
    pytest.importorskip("playwright")
    return path


def web_token(app: App, ref: str) -> str:
    from data.services.directory import issue_token

    with app.db.session() as s:
        ctx = app.context(s)
        ident = find_identity(ctx, ref)
        assert ident is not None
        return issue_token(ctx, ident, 30)
