"""Report figures checked against values computed by hand on a fixed data set."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from data.models import Household, Ticket
from data.reports import build_report, format_report
from data.services.directory import actor_for, find_identity
from data.services.handling import rate, staff_step
from data.services.tickets import create_ticket

ROOT = Path(__file__).resolve().parents[2]


# (hour, action, ticket, argument): the fixed data set the expected figures were computed from.
TIMELINE = [
    (0, "new", "T1", "water_pipe"),
    (1, "new", "T2", "lighting"),
    (2, "new", "T3", "noise"),
    (2, "step", "T1", "accepted"),
    (3, "emergency", "T4", "elder_health"),
    (3.2, "step", "T4", "accepted"),
    (5, "step", "T4", "resolved"),
    (10, "step", "T1", "resolved"),
    (11, "rate", "T1", 1),
    (30, "step", "T2", "accepted"),
    (40, "step", "T2", "resolved"),
    (41, "rate", "T2", 2),
]


def build_fixed_set(app, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """T1 accepted 2 h, resolved 10 h, rated 1 · T2 accepted 29 h, resolved 39 h, rated 2 ·
    T3 never accepted (overdue) · T4 emergency acknowledged after 12 min, resolved after 2 h."""
    t0 = clock.now()
    nos: dict[str, str] = {}
    for hour, action, name, arg in TIMELINE:
        clock._now = t0 + timedelta(hours=hour)
        with app.db.session() as s:
            ctx = app.context(s)
            resident = actor_for(ctx, find_identity(ctx, "demo:resident1"))
            leader = actor_for(ctx, find_identity(ctx, "demo:leader1"))
            if action in ("new", "emergency"):
                hh = ctx.session.get(Household, resident.household_id)
                nos[name] = create_ticket(
                    ctx,
                    resident,
                    item_code=str(arg),
                    description=name,
                    household=hh,
                    about_resident_id=resident.resident_id,
                    urgent=action == "emergency",
                ).public_no
                continue
            ticket = ctx.session.scalar(select(Ticket).where(Ticket.public_no == nos[name]))
            if action == "step":
                staff_step(ctx, leader, ticket, str(arg))
            else:
                rate(ctx, resident, ticket, int(arg))
    clock._now = t0 + timedelta(days=5)
    return nos


def test_report_figures_match_hand_computation(app, clock) -> None:  # type: ignore[no-untyped-def]
    nos = build_fixed_set(app, clock)
    with app.db.session() as s:
        r = build_report(app.context(s), "week")
    assert r.total == 4
    assert r.by_category == {"设施与环境": 2, "矛盾调解": 1, "养老服务": 1}
    assert r.by_item["水管漏水"] == 1 and r.by_unit == {"3栋2单元联户单元": 4}
    assert r.median_accept_hours == 2.0  # 2, 29, 0.2
    assert r.median_resolve_hours == 10.0  # 10, 39, 2
    assert r.answered_24h_share == 0.5
    assert r.overdue == [nos["T3"]]
    assert (r.ratings, r.satisfaction_rate, r.fully_satisfied_rate) == (2, 1.0, 0.5)
    assert (r.emergencies, r.emergency_ack_median_minutes, r.emergency_ack_within_target) == (1, 12.0, 1.0)
    md = format_report(r, "md")
    assert "| 满意率（满意+基本满意） | 100.0% | ≥ 95% |" in md and "≤ 30 分钟" in md
    assert "满意率" in format_report(r, "csv") and "<table>" in format_report(r, "html")


def test_report_cli_prints_figures(tmp_path: Path) -> None:
    env = {"LIANHU_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--period", "month", "--format", "md"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "联户工作月报" in out.stdout and "工单总数 | 0" in out.stdout
