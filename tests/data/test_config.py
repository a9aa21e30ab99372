"""Settings: config.yaml parsed once, every key overridable by LIANHU_* variables, secrets only from env."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_from_config_yaml() -> None:
    s = load_settings(ROOT / "config.yaml", environ={})
    assert s.database.url == "sqlite:///var/lianhu.db"
    assert s.server.port == 8080
    assert s.paths.catalog == "data/catalog/demands.yaml"
    assert s.nlu.backend == "builtin" and s.asr.backend == "whisper"
    assert s.deadlines.accept_hours(1) == 24
    assert s.wechat.token == ""


def test_environment_overrides_every_kind_of_value() -> None:
    s = load_settings(
        ROOT / "config.yaml",
        environ={
            "LIANHU_DATABASE_URL": "postgresql://db/x",
            "LIANHU_SERVER_PORT": "9001",
            "LIANHU_CHANNELS_ENABLED": "web, wechat",
            "LIANHU_DEADLINES_TIER2_ACCEPT_HOURS": "6.5",
            "LIANHU_PHONE_ENABLED": "true",
            "LIANHU_WECHAT_TOKEN": "secret-token",
            "LIANHU_NLU_BACKEND": "rasa",
        },
    )
    assert s.database.url == "postgresql://db/x"
    assert s.server.port == 9001
    assert s.channels.enabled == ("web", "wechat")
    assert s.deadlines.accept_hours(2) == 6.5
    assert s.phone.enabled is True
    assert s.wechat.token == "secret-token"
    assert s.nlu.backend == "rasa"


def test_bad_override_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="LIANHU_SERVER_PORT"):
        load_settings(ROOT / "config.yaml", environ={"LIANHU_SERVER_PORT": "eighty"})


def test_secrets_in_the_file_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("wechat:\n  token: oops\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="LIANHU_WECHAT_TOKEN"):
        load_settings(bad, environ={})


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("paths:\n  var_dir: state\n", encoding="utf-8")
    s = load_settings(cfg, environ={})
    assert s.path(s.paths.var_dir) == tmp_path / "state"
