"""`python -m bot api-key create|list|webhook|revoke`: keys printed once and kept only as hashes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.cli import main
from data.models import ApiKey, AuditLog
from data.services.integrators import key_for


def test_api_key_commands(
    app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIANHU_DATABASE_URL", app.settings.database.url)
    monkeypatch.setenv("LIANHU_PATHS_VAR_DIR", app.settings.paths.var_dir)
    assert (
        main(["api-key", "create", "街道12345平台", "--scope", "write", "--scope", "private", "--rate", "30"])
        == 0
    )
    key = capsys.readouterr().out.strip()
    assert key.startswith("lh311_") and len(key) > 30
    with app.db.session() as s:
        info = key_for(app.context(s), key)
        assert info is not None and info.scopes == ("read", "write", "private") and info.rate_per_minute == 30
        stored = s.scalar(select(ApiKey.key_hash))
    assert stored is not None and key not in stored and len(stored) == 64

    assert main(["api-key", "webhook", str(info.id), "https://city.example/hook"]) == 0
    assert len(capsys.readouterr().out.strip()) == 64
    assert main(["api-key", "list"]) == 0
    listing = capsys.readouterr().out
    assert info.prefix in listing and "write" in listing and "active" in listing
    assert "https://city.example/hook" in listing and key not in listing

    assert main(["api-key", "revoke", info.prefix]) == 0
    capsys.readouterr()
    assert main(["api-key", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["api-key", "revoke", "999"]) == 2
    assert main(["api-key", "webhook", str(info.id), "https://x.example"]) == 2
    with app.db.session() as s:
        assert key_for(app.context(s), key) is None
        actions = set(s.scalars(select(AuditLog.action)))
    assert {"api_key.create", "webhook.register", "api_key.revoke"} <= actions
