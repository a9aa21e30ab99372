"""The workbench's data services on a real database: sign-in and lockout, the board's scope and
filters, the steps staff take (through the chat's services, with the same notifications), import
preview, figures, the data map and alerts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from core.conversation import Actor
from core.errors import NotFoundError, PermissionDenied
from data import workflow
from data.demo import DEMO_PASSWORD
from data.models import AuditLog, Household, OutboxMessage, Resident, Ticket
from data.services import alert_desk, datamap, figures, ledger
from data.services.board import BoardFilter, board
from data.services.directory import actor_for, find_household, find_identity
from data.services.matters import NoteRequired, act, matter
from data.services.staff_auth import (
    check_password,
    issue_link,
    redeem_link,
    session_for,
    signin_check,
    signin_finish,
)
from data.services.tickets import create_ticket


def actor(app: App, ref: str) -> Actor:
    with app.db.session() as s:
        ctx = app.context(s)
        ident = find_identity(ctx, ref)
        assert ident is not None
        return actor_for(ctx, ident)


def seed(
    app: App,
    item: str = "water_pipe",
    text: str = "厨房水管漏水了",
    who: str = "demo:resident1",
    address: tuple[str, str, str] | None = None,
    urgent: bool = False,
) -> str:
    """File a ticket as a resident would (optionally for another household, as a proxy report)."""
    with app.db.session() as s:
        ctx = app.context(s)
        ident = find_identity(ctx, who)
        assert ident is not None
        a = actor_for(ctx, ident)
        hh = find_household(ctx, *address) if address else None
        t = create_ticket(
            ctx,
            a,
            item_code=item,
            description=text,
            household=hh,
            about_resident_id=None if hh else a.resident_id,
            urgent=urgent,
            needs_verification=hh is not None,
        )
        return t.public_no


def sign_in(app: App, phone: str, password: str, client: str = "127.0.0.1") -> str:
    """A session token, or the refusal's reason prefixed with '!'."""
    ws = app.settings.workbench
    with app.db.session() as s:
        cand = signin_check(app.context(s), ws, phone, client)
    if cand.refused:
        return "!" + cand.refused
    ok = check_password(cand.password_hash, password)
    with app.db.session() as s:
        outcome = signin_finish(app.context(s), ws, phone, client, cand.staff_id, ok)
    return outcome.token or "!" + outcome.refused


def test_password_sign_in_lockout_and_one_time_link(app: App) -> None:
    token = sign_in(app, "13900000101", DEMO_PASSWORD)
    with app.db.session() as s:
        found = session_for(app.context(s), token)
    assert found is not None and found.actor.role == "leader" and found.actor.unit_id
    assert [sign_in(app, "13700000001", "wrong-password") for _ in range(5)] == ["!wrong"] * 4 + ["!locked"]
    assert sign_in(app, "13700000001", DEMO_PASSWORD) == "!locked"  # the right password waits too
    app.clock.advance(minutes=16)  # type: ignore[attr-defined]
    assert not sign_in(app, "13700000001", DEMO_PASSWORD).startswith("!")
    assert sign_in(app, "13512345678", DEMO_PASSWORD) == "!wrong"  # an unknown phone: the same answer
    busy = [sign_in(app, f"135000000{i:02d}", "x", client="10.9.9.9") for i in range(31)]
    assert busy[-1] == "!busy"
    with app.db.session() as s:
        ctx = app.context(s)
        link = issue_link(ctx, app.settings.workbench, "demo:staff1")
        assert issue_link(ctx, app.settings.workbench, "demo:resident1") is None
    assert link
    with app.db.session() as s:
        assert redeem_link(app.context(s), app.settings.workbench, link)
    with app.db.session() as s:
        assert redeem_link(app.context(s), app.settings.workbench, link) is None  # once only
        actions = {a for (a,) in s.execute(select(AuditLog.action))}
    assert {"signin", "signin_failed", "signin_locked", "signin_link_refused"} <= actions


def test_board_scope_filters_and_order(app: App) -> None:
    mine = seed(app, "water_pipe", "厨房水管漏水了")
    other_grid = seed(app, "noise", "楼上半夜敲打", who="demo:leader5", address=("1", "1", "301"))
    sos = seed(app, "elder_health", "老人摔倒了起不来", urgent=True)
    staff, grid1, leader1 = (actor(app, f"demo:{r}") for r in ("staff1", "grid1", "leader1"))
    with app.db.session() as s:
        ctx = app.context(s)
        everything = board(ctx, staff, BoardFilter())
        assert {r.public_no for r in everything.rows} == {mine, other_grid, sos}
        assert everything.rows[0].public_no == sos  # emergencies first
        assert [r.public_no for r in everything.pinned] == [sos]
        assert {r.public_no for r in board(ctx, grid1, BoardFilter()).rows} == {mine, sos}
        assert {r.public_no for r in board(ctx, leader1, BoardFilter()).rows} == {mine, sos}
        assert [r.public_no for r in board(ctx, staff, BoardFilter(category="mediation")).rows] == [
            other_grid
        ]
        assert [r.public_no for r in board(ctx, staff, BoardFilter(q="水管")).rows] == [mine]
        assert [r.public_no for r in board(ctx, staff, BoardFilter(q="%")).rows] == []
        assert [r.public_no for r in board(ctx, staff, BoardFilter(emergency=True)).rows] == [sos]
        assert board(ctx, staff, BoardFilter(overdue=True)).total == 0
    app.clock.advance(hours=25)  # type: ignore[attr-defined]
    with app.db.session() as s:
        late = board(app.context(s), staff, BoardFilter(overdue=True))
        assert {r.public_no for r in late.rows} >= {mine, other_grid}
        assert all(r.overdue and r.seconds_left is not None and r.seconds_left < 0 for r in late.rows)


def test_steps_go_through_the_chats_services_and_refuse_what_the_role_may_not(app: App) -> None:
    no = seed(app)
    far = seed(app, "noise", "楼上吵", who="demo:leader5", address=("1", "1", "301"))
    staff, grid1, grid2 = (actor(app, f"demo:{r}") for r in ("staff1", "grid1", "grid2"))
    with app.db.session() as s:
        ctx = app.context(s)
        with pytest.raises(NotFoundError):
            matter(ctx, grid1, far)
        with pytest.raises(NotFoundError):
            act(ctx, grid1, far, "accept")
        with pytest.raises(NoteRequired):
            act(ctx, staff, no, "resolve", "")
        leader2 = next(
            p for p in ledger.staff_list(ctx, staff) if p[0].name != "刘网格员" and p[0].role == "leader"
        )
        act(ctx, grid1, no, "assign", staff_id=leader2[0].id)
        with pytest.raises(PermissionDenied):  # a grid worker cannot hand a matter to another grid
            act(ctx, grid2, far, "assign", staff_id=leader2[0].id)
    with app.db.session() as s:
        ctx = app.context(s)
        act(ctx, staff, no, "accept")
        act(ctx, staff, no, "note", "已电话联系")
        act(ctx, staff, no, "resolve", "换了新水管")
        t = s.scalar(select(Ticket).where(Ticket.public_no == no))
        assert t is not None and t.status == workflow.RESOLVED
        kinds = [e.kind for e in matter(ctx, staff, no).events]
        assert kinds[:2] == ["created", "assigned"] and "staff_note" in kinds and kinds[-1] == "resolved"
        told = {o.kind for o in s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == t.id))}
        assert {"new_task", "accepted", "resolved", "rate"} <= told
        act(ctx, staff, no, "close")
        act(ctx, staff, no, "reopen", "居民说又漏了")
        assert t.status == workflow.REOPENED and t.closed_at is None
        with pytest.raises(workflow.TransitionError):
            act(ctx, staff, no, "close")
        act(ctx, staff, far, "verify")
        assert s.scalar(select(Ticket.needs_verification).where(Ticket.public_no == far)) is False


def test_import_preview_writes_nothing_and_reimport_updates(app: App, tmp_path: Path) -> None:
    staff, leader = actor(app, "demo:staff1"), actor(app, "demo:leader1")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "网格,联户单元,栋,单元,室,姓名,电话,出生年\n"
        "第1网格,新单元,9,1,101,甲,13600000001,1950\n"
        "第1网格,新单元,9,1,102,,1360000,1850\n",
        encoding="utf-8",
    )
    good = tmp_path / "good.csv"
    good.write_text(
        "网格,联户单元,栋,单元,室,姓名,电话,出生年,独居\n第1网格,新单元,9,1,101,甲,13600000001,1950,是\n",
        encoding="utf-8",
    )
    with app.db.session() as s:
        ctx = app.context(s)
        before = s.scalar(select(func.count(Resident.id)))
        preview = ledger.preview_import(ctx, staff, bad)
        assert {p.line for p in preview.problems} == {3} and len(preview.problems) == 3
        ok = ledger.preview_import(ctx, staff, good)
        assert not ok.problems and "residents: +1" in ok.changes
        with pytest.raises(PermissionDenied):
            ledger.preview_import(ctx, leader, good)
    with app.db.session() as s:
        assert s.scalar(select(func.count(Resident.id))) == before
        ledger.run_import(app.context(s), staff, good)
    with app.db.session() as s:
        assert "updated: 1" in ledger.run_import(app.context(s), staff, good)  # the same person, not twice
        assert s.scalar(select(func.count(Resident.id))) == before + 1
        rows = ledger.export_rows(app.context(s), staff)
    assert rows[0][:5] == ["网格", "联户单元", "栋", "单元", "室"] and any(r[5] == "甲" for r in rows)


def test_figures_map_and_alerts(app: App) -> None:
    for text in ("楼道灯坏了", "楼道灯又不亮", "三楼楼道灯坏"):
        seed(app, "lighting", text)
    sos = seed(app, "elder_health", "老人摔倒了", urgent=True)
    staff, leader1, grid2 = actor(app, "demo:staff1"), actor(app, "demo:leader1"), actor(app, "demo:grid2")
    with app.db.session() as s:
        ctx = app.context(s)
        series = figures.weekly(ctx, staff, 4)
        assert sum(series.by_category["设施与环境"]) == 3 and series.emergencies[-1] == 1
        assert [p.name for p in figures.leaders(ctx, leader1)] == ["张桂芳"]
        grids = datamap.community_map(ctx, staff)
        cells = {u.name: u for g in grids for b in g.buildings for u in b.units}
        u1 = cells["3栋2单元联户单元"]
        assert u1.households == 12 and u1.elders_alone >= 1 and u1.open_total == 4 and u1.heat == 5
        assert len(datamap.community_map(ctx, leader1)) == 1
        clusters = alert_desk.cluster_alerts(ctx, staff)
        assert len(clusters) == 1 and clusters[0].acknowledged_at is None
        assert [r.public_no for r in alert_desk.open_emergencies(ctx, staff)] == [sos]
        assert alert_desk.cluster_alerts(ctx, grid2) == []
        with pytest.raises(NotFoundError):
            alert_desk.acknowledge_cluster(ctx, grid2, clusters[0].id)
        alert_desk.acknowledge_cluster(ctx, staff, clusters[0].id)
    with app.db.session() as s:
        assert alert_desk.cluster_alerts(app.context(s), staff)[0].acknowledged_by == "社区办公室"
        assert s.scalar(select(func.count(Household.id))) == 72
