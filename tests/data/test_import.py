"""Importing a registry: all rows valid → written; any bad row → every problem reported, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data.importer import ImportFailed, import_registry
from data.models import Resident, Staff

ROOT = Path(__file__).resolve().parents[2]
HEADER = "网格,联户单元,栋,单元,室,姓名,电话,出生年,独居,角色\n"
GOOD = HEADER + (
    "第9网格,9栋1单元联户单元,9,1,101,赵大爷,13911112222,1945,是,联户长\n"
    "第9网格,9栋1单元联户单元,9,1,102,钱婆婆,,1938,是,\n"
    "第9网格,9栋1单元联户单元,9,1,102,钱小明,13911113333,2012,,\n"
    "第9网格,,,,,孙网格,13911114444,,,网格员\n"
).replace(",,,,,孙网格", ",9栋1单元联户单元,9,1,000,孙网格")


def residents(app) -> int:  # type: ignore[no-untyped-def]
    with app.db.session() as s:
        return int(s.scalar(select(func.count(Resident.id))) or 0)


def test_good_csv_is_imported(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "registry.csv"
    f.write_text(GOOD, encoding="utf-8")
    before = residents(app)
    with app.db.session() as s:
        summary = import_registry(app.context(s), f)
    assert "residents: 3" in summary and "leaders: 1" in summary and "grid_workers: 1" in summary
    assert residents(app) == before + 3
    with app.db.session() as s:
        assert s.scalar(select(Staff).where(Staff.name == "赵大爷")).role == "leader"


def test_bad_rows_are_all_reported_and_nothing_written(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = HEADER + (
        "第9网格,9栋1单元联户单元,9,1,101,赵大爷,13911112222,1945,是,联户长\n"
        "第9网格,9栋1单元联户单元,9,1,,钱婆婆,,1938,是,\n"
        "第9网格,9栋1单元联户单元,9,1,103,孙婆婆,12345,19x8,,\n"
        "第9网格,9栋1单元联户单元,9,1,104,李某,,,,联户长\n"
        "第8网格,9栋1单元联户单元,9,1,105,周某,,,,队长\n"
    )
    f = tmp_path / "bad.csv"
    f.write_text(bad, encoding="utf-8")
    before = residents(app)
    with pytest.raises(ImportFailed) as err, app.db.session() as s:
        import_registry(app.context(s), f)
    lines = {p.line for p in err.value.problems}
    assert lines == {3, 4, 5, 6}
    reasons = " ".join(p.reason for p in err.value.problems)
    assert "room is empty" in reasons and "phone" in reasons and "birth_year" in reasons
    assert "already has a leader" in reasons and "unknown role" in reasons and "two grids" in reasons
    assert residents(app) == before


def test_missing_columns_and_empty_file(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "x.csv"
    f.write_text("姓名,电话\n张三,13900000000\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="1 bad rows") as err, app.db.session() as s:
        import_registry(app.context(s), f)
    assert "missing column" in err.value.problems[0].reason
    f.write_text("", encoding="utf-8")
    with pytest.raises(ImportFailed), app.db.session() as s:
        import_registry(app.context(s), f)


def test_xlsx_is_imported(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for line in GOOD.strip().splitlines():
        ws.append(line.split(","))
    f = tmp_path / "registry.xlsx"
    wb.save(f)
    before = residents(app)
    with app.db.session() as s:
        import_registry(app.context(s), f)
    assert residents(app) == before + 3


def test_cli_reports_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(HEADER + "第9网格,9栋1单元联户单元,9,1,101,,,,,\n", encoding="utf-8")
    env = {"LIANHU_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "import", str(f)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1
    assert "line 2: name is empty" in out.stderr and "nothing imported" in out.stderr
