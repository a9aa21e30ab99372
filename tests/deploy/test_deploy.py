"""deploy/: the systemd units pass `systemd-analyze verify`, their commands are real commands, the Caddy
example is a valid Caddyfile, and deploy/trial.sh (docs/deploy.md end to end on PostgreSQL) passes."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, ROOT

DEPLOY = ROOT / "deploy"
UNITS = sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")])


def rendered_units(tmp_path: Path) -> list[Path]:
    """The units as installed on this machine: /opt/lianhu is this checkout, its venv this Python."""
    env_file = tmp_path / "lianhu.env"
    env_file.write_text("LIANHU_SERVER_WORKERS=2\n", encoding="utf-8")
    out = []
    for unit in UNITS:
        body = (
            unit.read_text(encoding="utf-8")
            .replace("/opt/lianhu/.venv/bin/python", sys.executable)
            .replace("/opt/lianhu", str(ROOT))
            .replace("/etc/lianhu/lianhu.env", str(env_file))
        )
        target = tmp_path / unit.name
        target.write_text(body, encoding="utf-8")
        out.append(target)
    return out


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze is missing: scripts/system-deps.sh test installs Debian's systemd")
    assert {u.name for u in UNITS} >= {"lianhu.service", "lianhu-dispatch@.service", "lianhu-backup.timer"}
    units = rendered_units(tmp_path)
    done = subprocess.run([tool, "verify", *map(str, units)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # verify only warns (exit 0) about unknown keys and the like: any line about our units is a failure.
    complaints = [line for line in done.stderr.splitlines() if "lianhu" in line]
    assert not complaints, complaints

    broken = tmp_path / "lianhu-broken.service"
    server = (tmp_path / "lianhu.service").read_text(encoding="utf-8")
    broken.write_text(server.replace("Restart=", "Restrat="), encoding="utf-8")
    done = subprocess.run([tool, "verify", str(broken)], capture_output=True, text=True, cwd=tmp_path)
    assert "Restrat" in done.stderr  # the check above would catch a typo


def test_every_command_in_the_units_is_a_command_of_this_version() -> None:
    commands = []
    for unit in UNITS:
        for line in unit.read_text(encoding="utf-8").splitlines():
            if re.match(r"Exec(Start|StartPre|Stop)=", line):
                argv = shlex.split(line.split("=", 1)[1])
                assert argv[:3] == ["/opt/lianhu/.venv/bin/python", "-m", "bot"], line
                commands.append(argv[3:])
    assert ["serve"] in commands and ["dispatch"] in commands and ["backup"] in commands
    for args in commands:
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr


def test_the_caddy_example_is_a_valid_caddyfile() -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (scripts/system-deps.sh test installs it)")
    done = subprocess.run(
        [caddy, "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert '"127.0.0.1:8080"' in done.stdout and "/metrics" in done.stdout


@pytest.mark.slow
@pytest.mark.postgres
def test_trial_of_the_deployment_guide() -> None:
    """deploy/trial.sh on this machine's PostgreSQL (roles and databases named after the test database)."""
    if not PG_URL:
        pytest.skip("LIANHU_TEST_DATABASE_URL not set")
    url = make_url(PG_URL)
    name = str(url.database)
    psql = f"psql -X -h {url.host or '127.0.0.1'} -p {url.port or 5432} -U {url.username or 'postgres'}"
    env = {
        **os.environ,
        "VENV": sys.prefix,
        "PSQL": psql,
        "TRIAL_DB": f"{name}_trial",
        "TRIAL_ROLE": "lianhu_" + (name.removeprefix("test_") if name != "test" else "test"),
    }
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(
        ["bash", str(DEPLOY / "trial.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-60:])
    assert done.returncode == 0, tail
    assert "TRIAL PASSED" in done.stdout, tail
    print("\n" + done.stdout.splitlines()[-1])
