"""Security suite fixtures: the channel fixtures (recorder, WeChat apps, live server) reused."""

from __future__ import annotations

from tests.channels.conftest import (  # noqa: F401 - fixtures
    LiveServer,
    live,
    recorder,
    web_token,
    wechat_app,
    wechat_safe_app,
)
