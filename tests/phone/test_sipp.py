"""Signalling with SIPp: a silent caller is re-prompted, then transferred to the duty phone by REFER."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.phone.caller import SIPP, free_port
from tests.phone.conftest import wait_until
from tests.phone.test_sip_call import start_line

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(SIPP is None, reason="sipp not installed (make test installs sip-tester)"),
]
SCENARIOS = Path(__file__).parent / "sipp"


def run_sipp(
    scenario: str, target: str, workdir: Path, *extra: str, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    cmd = [
        SIPP or "sipp",
        target,
        "-sf",
        str(SCENARIOS / scenario),
        "-s",
        "lianhu",
        "-i",
        "127.0.0.1",
        "-p",
        str(free_port()),
        "-mp",
        str(free_port()),
        "-bg" if False else "-nostdin",
        "-trace_err",
        "-timeout",
        f"{int(timeout)}s",
        *extra,
    ]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout + 30)


def test_silent_caller_is_transferred_by_refer(app, voice_service, line, tmp_path: Path) -> None:
    hotline, endpoint, uri = start_line(
        app, voice_service, line, duty_number="8001", no_input_seconds=1.0, office_hours=""
    )
    target = uri.split("@", 1)[1]
    try:
        done = run_sipp("silent_caller_refer.xml", target, tmp_path, "-m", "1", "-l", "1")
        record = wait_until(lambda: hotline.records and hotline.records[-1], 20, "the call record")
    finally:
        line.run(endpoint.stop())
    errors = "".join(p.read_text(errors="replace")[-2000:] for p in tmp_path.glob("*errors.log"))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:] + errors
    assert record.heard[:3] == ["silence", "silence", "silence"]
    assert record.outcome == "transferred"
    assert record.transferred_to.startswith("sip:8001@127.0.0.1")
