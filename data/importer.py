"""Import a real registry from CSV or XLSX. Every bad row is reported; nothing is written unless all are good.

Columns (header row, Chinese or English names):
  grid 网格 · unit 联户单元 · building 栋 · entrance 单元 · room 室 · name 姓名 · phone 电话 ·
  birth_year 出生年 · lives_alone 独居 · prefers_voice 语音 · role 角色 (联户长/leader, 网格员/grid, blank)
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from data.models import Community, Grid, Household, Resident, Staff, Unit
from data.services import ServiceContext

ALIASES = {
    "grid": ("grid", "网格"),
    "unit": ("unit", "联户单元", "单元名称"),
    "building": ("building", "栋", "楼栋"),
    "entrance": ("entrance", "单元"),
    "room": ("room", "室", "房号"),
    "name": ("name", "姓名"),
    "phone": ("phone", "电话", "手机"),
    "birth_year": ("birth_year", "出生年", "出生年份"),
    "lives_alone": ("lives_alone", "独居"),
    "prefers_voice": ("prefers_voice", "语音"),
    "role": ("role", "角色"),
}
REQUIRED = ("grid", "unit", "building", "room", "name")
ROLES = {
    "": None,
    "leader": "leader",
    "联户长": "leader",
    "grid": "grid",
    "网格员": "grid",
    "居民": None,
    "resident": None,
}
TRUE = {"1", "是", "y", "yes", "true", "√"}
YEAR = re.compile(r"[0-9]{4}")
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
MAX_ROWS = 20000


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str


class ImportFailed(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} bad rows")
        self.problems = problems


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs with canonical column names; ImportFailed for any unreadable file."""
    table = _read_table(path)
    if not table:
        raise ImportFailed([Problem(1, "the file is empty")])
    header = table[0]
    columns: dict[int, str] = {}
    for i, name in enumerate(header):
        for canon, names in ALIASES.items():
            if name.strip().lower() in names:
                columns[i] = canon
    missing = [c for c in REQUIRED if c not in columns.values()]
    if missing:
        raise ImportFailed([Problem(1, f"missing column(s): {', '.join(missing)}")])
    rows = []
    for n, values in enumerate(table[1:], start=2):
        if not any(values):
            continue
        rows.append((n, {canon: (values[i] if i < len(values) else "") for i, canon in columns.items()}))
    if len(rows) > MAX_ROWS:
        raise ImportFailed([Problem(1, f"too many rows (more than {MAX_ROWS})")])
    return rows


def _read_table(path: Path) -> list[list[str]]:
    """The file's cells as text. A file is outside input: whatever it holds, a problem or a table."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(path, read_only=True, data_only=True).active
            return [
                ["" if v is None else str(v).strip() for v in row]
                for row in sheet.iter_rows(values_only=True)
            ]
        except Exception as err:  # noqa: BLE001 - zipfile, XML and openpyxl errors alike
            raise ImportFailed([Problem(1, f"not a readable XLSX file ({type(err).__name__})")]) from None
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig") if not raw.startswith(b"\xff\xfe") else raw.decode("utf-16")
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    except (UnicodeDecodeError, csv.Error) as err:
        raise ImportFailed([Problem(1, f"not a UTF-8 CSV file ({type(err).__name__})")]) from None


def validate(rows: list[tuple[int, dict[str, str]]]) -> list[Problem]:
    problems: list[Problem] = []
    seen_people: set[tuple[str, str, str, str]] = set()
    leaders: dict[str, int] = {}
    unit_grid: dict[str, str] = {}
    for line, row in rows:
        for col in REQUIRED:
            if not row.get(col):
                problems.append(Problem(line, f"{col} is empty"))
        if row.get("phone") and not PHONE.match(row["phone"]):
            problems.append(Problem(line, f"phone {row['phone'][:3]}… is not a valid number"))
        by = row.get("birth_year", "")
        if by and not (YEAR.fullmatch(by) and 1900 <= int(by) <= 2026):  # ASCII digits: "²".isdigit()
            problems.append(Problem(line, f"birth_year {by!r} is not a year"))
        role = row.get("role", "").strip().lower()
        if role not in ROLES:
            problems.append(Problem(line, f"unknown role {row.get('role')!r}"))
        elif ROLES[role] == "leader":
            if row.get("unit") in leaders:
                problems.append(
                    Problem(line, f"unit {row['unit']} already has a leader on line {leaders[row['unit']]}")
                )
            leaders[row.get("unit", "")] = line
        unit = row.get("unit", "")
        if unit and unit_grid.setdefault(unit, row.get("grid", "")) != row.get("grid", ""):
            problems.append(Problem(line, f"unit {unit} is listed under two grids"))
        key = (row.get("building", ""), row.get("entrance", ""), row.get("room", ""), row.get("name", ""))
        if key in seen_people:
            problems.append(Problem(line, "the same person appears twice"))
        seen_people.add(key)
    return problems


def import_registry(ctx: ServiceContext, path: Path, community_code: str = "demo") -> str:
    """Validate the whole file, then write it in the caller's transaction."""
    try:
        rows = read_rows(path)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as err:
        raise ImportFailed([Problem(1, f"cannot read the file: {type(err).__name__}")]) from err
    problems = validate(rows)
    if problems:
        raise ImportFailed(problems)
    s = ctx.session
    community = s.scalar(select(Community).where(Community.code == community_code))
    if community is None:
        community = Community(code=community_code, name="社区")
        s.add(community)
        s.flush()
    grids: dict[str, Grid] = {g.name: g for g in s.scalars(select(Grid))}
    units: dict[str, Unit] = {u.name: u for u in s.scalars(select(Unit))}
    counts = {"residents": 0, "households": 0, "leaders": 0, "grid_workers": 0, "updated": 0}
    for _line, row in rows:
        grid = grids.get(row["grid"])
        if grid is None:
            grid = Grid(
                community_id=community.id, code=f"G{len(grids) + 1}-{row['grid'][:20]}", name=row["grid"]
            )
            s.add(grid)
            s.flush()
            grids[row["grid"]] = grid
        role = ROLES[row.get("role", "").strip().lower()]
        if role == "grid":
            worker = s.scalar(
                select(Staff).where(Staff.role == "grid", Staff.grid_id == grid.id, Staff.name == row["name"])
            )
            if worker is not None:  # already registered (an exported registry imported back)
                worker.phone = row.get("phone") or worker.phone
                counts["updated"] += 1
                continue
            s.add(
                Staff(
                    community_id=community.id,
                    role="grid",
                    name=row["name"],
                    phone=row.get("phone") or None,
                    grid_id=grid.id,
                )
            )
            counts["grid_workers"] += 1
            continue
        unit = units.get(row["unit"])
        if unit is None:
            unit = Unit(grid_id=grid.id, code=f"U{len(units) + 1}-{row['unit'][:20]}", name=row["unit"])
            s.add(unit)
            s.flush()
            units[row["unit"]] = unit
        hh = _household(ctx, unit, row, counts)
        res = s.scalar(select(Resident).where(Resident.household_id == hh.id, Resident.name == row["name"]))
        if res is None:
            res = Resident(household_id=hh.id, name=row["name"])
            s.add(res)
            counts["residents"] += 1
        else:  # the same person again: their details are updated, not duplicated
            counts["updated"] += 1
        res.phone = row.get("phone") or None
        res.birth_year = int(row["birth_year"]) if row.get("birth_year") else None
        res.lives_alone = row.get("lives_alone", "").lower() in TRUE
        res.prefers_voice = row.get("prefers_voice", "").lower() in TRUE
        s.flush()
        already = s.scalar(select(Staff.id).where(Staff.role == "leader", Staff.resident_id == res.id))
        if role == "leader" and already is None:
            s.add(
                Staff(
                    community_id=community.id,
                    role="leader",
                    name=res.name,
                    phone=res.phone,
                    unit_id=unit.id,
                    grid_id=grid.id,
                    resident_id=res.id,
                )
            )
            counts["leaders"] += 1
    s.flush()
    return ", ".join(f"{k}: {v}" for k, v in counts.items())


def _household(ctx: ServiceContext, unit: Unit, row: dict[str, Any], counts: dict[str, int]) -> Household:
    s = ctx.session
    q = select(Household).where(
        Household.building == row["building"],
        Household.entrance == row.get("entrance", ""),
        Household.room == row["room"],
    )
    hh = s.scalar(q)
    if hh is None:
        hh = Household(
            unit_id=unit.id, building=row["building"], entrance=row.get("entrance", ""), room=row["room"]
        )
        s.add(hh)
        s.flush()
        counts["households"] += 1
    return hh
