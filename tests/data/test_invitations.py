"""An invitation code for a role holder from the registry binds their account as that role holder, so
their tasks reach them (before, only residents could be invited and imported leaders got nothing)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import App
from data.importer import import_registry
from data.models import Identity, OutboxMessage
from data.registry import create_invitation
from tests.bot.test_cli_commands import REGISTRY_CSV
from tests.data.test_loop import NO


def test_an_imported_leader_binds_with_a_code_and_receives_tasks(app: App, chat, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY_CSV, encoding="utf-8")
    with app.db.session() as s:
        import_registry(app.context(s), registry)
        leader_code = create_invitation(app.context(s), "13600009102")
        resident_code = create_invitation(app.context(s), "13600009101")
        assert create_invitation(app.context(s), "13600000000") is None
    assert leader_code and resident_code
    assert "我的任务" in chat("wechat:oLeader9").say(leader_code)
    assert "反映问题" in chat("wechat:oResident9").say(resident_code)
    resident = chat("wechat:oResident9")
    resident.say("我家水管漏水了")
    no = NO.search(resident.say("1"))
    assert no
    with app.db.session() as s:
        leader = s.scalar(select(Identity).where(Identity.external_id == "oLeader9"))
        assert leader is not None and leader.staff_id is not None and leader.resident_id is not None
        tasks = list(s.scalars(select(OutboxMessage).where(OutboxMessage.identity_id == leader.id)))
    assert [t.kind for t in tasks] == ["new_task"]
