"""Referral to a service resource (转介): the leader sees matching resources, refers, the provider
(another identity) accepts and resolves, the resident rates, the provider's figures move."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core.catalog import DemandCatalog
from core.errors import CatalogError
from data.models import AuditLog, Referral, Ticket
from data.resources import ResourceCatalog
from tests.conftest import ROOT
from tests.data.test_loop import file_ticket, ticket

PLUMBING = "demo:provider-plumbing"
VOLUNTEERS = "demo:provider-handyman_volunteers"


def referral(app, no: str) -> Referral:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.public_no == no))
        return s.scalar(select(Referral).where(Referral.ticket_id == t.id).order_by(Referral.id.desc()))


def test_report_refer_accept_resolve_rate(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    leader, resident, provider = chat("demo:leader1"), chat("demo:resident1"), chat(VOLUNTEERS)
    suggestion = [m for m in leader.inbox() if "可以转介" in m]  # in the task message itself
    assert suggestion and f"新任务：单号 {no}" in suggestion[0]
    assert suggestion and "1 邻里水电维修队" in suggestion[0] and "2 党员便民维修志愿队" in suggestion[0]
    assert "没有找到" in provider.say(f"接单 {no}")  # not referred to it yet
    assert "已转介给 党员便民维修志愿队" in leader.say(f"转介 {no} 2")
    task = [m for m in provider.inbox() if "转介任务" in m]
    assert task and "3 栋 2 单元 502" in task[0] and "13800000502" in task[0]
    assert "王秀英" not in task[0]  # the address and a number to call, not the name
    assert "已经转介" in leader.say(f"转介 {no} 1")
    assert "已接单" in provider.say(f"接单 {no}")
    told = resident.inbox()
    assert any("已请 党员便民维修志愿队 来办" in m for m in told)
    assert any("党员便民维修志愿队 已经接单" in m and "以前上门" in m for m in told)
    assert "已办结" in provider.say(f"办结 {no} 换了新水管")
    assert any("满意请按 1" in m for m in resident.inbox())
    assert "谢谢" in resident.say("1")
    r = referral(app, no)
    assert (r.status, r.rating, r.resource_code) == ("resolved", 1, "handyman_volunteers")
    assert r.accepted_at is not None and r.accepted_at <= r.accept_due_at
    assert ticket(app, no).status == "closed"


def test_provider_refused_ticket_not_referred(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    chat("demo:leader1").say(f"转介 {no} 1")
    other = chat(VOLUNTEERS)
    assert "没有找到" in other.say(f"接单 {no}")
    assert "没有找到" in other.say(f"办结 {no} 好了")
    assert no not in other.say("我的任务")
    assert "服务机构只能" in other.say(f"上报 {no} 太难了")
    with app.db.session() as s:
        refused = s.scalars(select(AuditLog.detail).where(AuditLog.action == "refused")).all()
    assert "provider: ticket not referred" in refused
    assert ticket(app, no).status == "submitted"


def test_provider_returns_with_reason(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    leader, provider = chat("demo:leader1"), chat(PLUMBING)
    leader.inbox()
    provider.say("1")  # 我的任务 (the provider's own menu)
    leader.say(f"转介 {no} 1")
    assert "请说明退回原因" in provider.say(f"退回 {no}")
    assert "已退回" in provider.say("今天人手不够")
    assert any("邻里水电维修队 退回了单号" in m and "今天人手不够" in m for m in leader.inbox())
    t = ticket(app, no)
    assert referral(app, no).status == "returned" and t.assignee_id is not None
    assert "已转介给 党员便民维修志愿队" in leader.say(f"转介 {no} 2")  # another resource after a return


def test_refer_by_menu(app, chat) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    leader = chat("demo:leader1")
    leader.say("我的任务")
    assert "5 转介" in leader.say("1")
    menu = leader.say("5")
    assert "1 邻里水电维修队" in menu
    assert "已转介给 邻里水电维修队" in leader.say("1")
    assert referral(app, no).resource_code == "plumbing"


def test_deadline_keeps_running_for_a_provider(app, chat, clock) -> None:  # type: ignore[no-untyped-def]
    no = file_ticket(chat)
    chat("demo:leader1").say(f"转介 {no} 1")
    clock.advance(hours=app.settings.deadlines.referral_accept_hours + 1)
    report = app.run_scheduler_once()
    assert no in report.escalated
    assert ticket(app, no).tier == 2
    assert any(no in m for m in chat("demo:grid1").inbox())
    assert "已接单" in chat(PLUMBING).say(f"接单 {no}")  # late, but still its referral
    r = referral(app, no)
    assert r.accepted_at > r.accept_due_at


def test_resource_list_is_checked(tmp_path: Path) -> None:
    demands = DemandCatalog.load(ROOT / "data/catalog/demands.yaml")
    shipped = ResourceCatalog.load(ROOT / "data/catalog/resources.yaml", demands)
    assert len(shipped.resources) >= 20
    assert {r.kind for r in shipped.resources} == {"government", "volunteer", "market"}
    bad = tmp_path / "resources.yaml"
    cases = {
        "serves: [no_such_item]": "serves unknown demand item(s) no_such_item",
        "kind: charity": "kind must be one of",
        "hours: ''": "missing hours",
    }
    base = (ROOT / "data/catalog/resources.yaml").read_text(encoding="utf-8")
    first = base.index("  - code: canteen")
    block_end = base.index("  - code: day_care")
    block = base[first:block_end]
    for change, message in cases.items():
        key = change.split(":")[0]
        lines = [f"    {change}" if ln.strip().startswith(f"{key}:") else ln for ln in block.splitlines()]
        bad.write_text("resources:\n" + "\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(CatalogError, match=r"resource #1 \(幸福里老年食堂\)") as err:
            ResourceCatalog.load(bad, demands)
        assert message in str(err.value)
    bad.write_text("resources:\n" + block + block, encoding="utf-8")
    with pytest.raises(CatalogError, match="duplicate resource code"):
        ResourceCatalog.load(bad, demands)


def test_provider_figures_move(app, chat, clock) -> None:  # type: ignore[no-untyped-def]
    from data.reports import build_report, format_report

    def figures():  # type: ignore[no-untyped-def]
        clock.advance(minutes=1)  # the report's period ends now
        with app.db.session() as s:
            report = build_report(app.context(s), "week")
        rows = {p.code: p for p in report.providers}
        return report, rows

    before, rows = figures()
    assert rows["handyman_volunteers"].referred == 0 and before.mismatch_rate is None
    leader, provider, resident = chat("demo:leader1"), chat(VOLUNTEERS), chat("demo:resident1")
    good = file_ticket(chat)
    leader.say(f"转介 {good} 2")
    provider.say(f"接单 {good}")
    provider.say(f"办结 {good} 修好了")
    resident.inbox()
    resident.say("1")
    back = file_ticket(chat, "楼道灯坏了")
    leader.say(f"转介 {back} 2")
    provider.say(f"退回 {back} 这周没有人")
    report, rows = figures()
    p = rows["handyman_volunteers"]
    assert (p.referred, p.accepted_in_time, p.resolved, p.returned, p.ratings, p.satisfied) == (
        2,
        1,
        1,
        1,
        1,
        1,
    )
    assert p.satisfaction_rate == 1.0 and report.mismatch_rate == 0.5
    text = format_report(report)
    assert "| 供需错位率（退回 + 不满意 / 转介） | 50.0% | ≤ 15% |" in text
    assert "| 党员便民维修志愿队 | 2 | 1 | 1 | 1 | 1 | 100.0% |" in text


def test_refer_from_the_workbench(app, chat) -> None:  # type: ignore[no-untyped-def]
    from data.services.directory import actor_for, find_identity
    from data.services.matters import act, matter

    no = file_ticket(chat)
    with app.db.session() as s:
        ctx = app.context(s)
        staff = actor_for(ctx, find_identity(ctx, "demo:staff1"))
        page = matter(ctx, staff, no)
        assert "refer" in page.allowed and [c for c, _ in page.resources] == [
            "plumbing",
            "handyman_volunteers",
        ]
        act(ctx, staff, no, "refer", resource="plumbing")
    with app.db.session() as s:
        ctx = app.context(s)
        assert "refer" not in matter(ctx, staff, no).allowed  # with a provider now
    assert referral(app, no).resource_code == "plumbing"
    assert any("邻里水电维修队 来办" in m for m in chat("demo:resident1").inbox())
    assert any("转介任务" in m for m in chat(PLUMBING).inbox())
