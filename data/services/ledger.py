"""The registry (台账) as the workbench keeps it: households and residents, leaders and grid workers,
within the part of the community an actor keeps; edits, import preview, export, invitation cards."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, or_, select

from core.conversation import Actor
from core.errors import NotFoundError, PermissionDenied
from data.importer import PHONE, ImportFailed, Problem, import_registry
from data.models import Grid, Household, Resident, Staff, Unit
from data.registry import invite_resident
from data.services import ServiceContext
from data.services.directory import get_or_create_identity, issue_token
from data.services.handling import audit
from data.services.visibility import may_open, unit_scope

EXPORT_HEADER = ["网格", "联户单元", "栋", "单元", "室", "姓名", "电话", "出生年", "独居", "语音", "角色"]


@dataclass
class HouseholdRow:
    household: Household
    unit: str
    grid: str
    residents: list[Resident]


@dataclass
class RegistryPage:
    rows: list[HouseholdRow]
    total: int
    page: int
    pages: int
    units: list[tuple[int, str]] = field(default_factory=list)


def _scoped_households():  # type: ignore[no-untyped-def]
    return select(Household).join(Unit, Unit.id == Household.unit_id).join(Grid, Grid.id == Unit.grid_id)


def households(
    ctx: ServiceContext, actor: Actor, q: str = "", unit_id: int | None = None, page: int = 1, size: int = 30
) -> RegistryPage:
    """Households in the actor's part of the community, searched by address, name or phone."""
    stmt = _scoped_households().where(unit_scope(actor))
    if unit_id:
        stmt = stmt.where(Household.unit_id == unit_id)
    q = q.strip()
    if q:
        like = f"%{q}%"
        people = select(Resident.household_id).where(or_(Resident.name.like(like), Resident.phone.like(like)))
        address = Household.building + "栋" + Household.entrance + "单元" + Household.room
        stmt = stmt.where(or_(Household.id.in_(people), address.like(like), Household.room == q))
    total = ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    found = list(
        ctx.session.scalars(
            stmt.order_by(Household.building, Household.entrance, Household.room)
            .limit(size)
            .offset((page - 1) * size)
        )
    )
    ids = [h.id for h in found]
    residents: dict[int, list[Resident]] = {i: [] for i in ids}
    for r in ctx.session.scalars(
        select(Resident).where(Resident.household_id.in_(ids)).order_by(Resident.id)
    ):
        residents[r.household_id].append(r)
    names = {
        u: (un, gn)
        for u, un, gn in ctx.session.execute(
            select(Unit.id, Unit.name, Grid.name).join(Grid, Grid.id == Unit.grid_id).where(unit_scope(actor))
        )
    }
    rows = [HouseholdRow(h, *names.get(h.unit_id, ("", "")), residents[h.id]) for h in found]
    return RegistryPage(rows, total, page, pages, [(u, n[0]) for u, n in names.items()])


def _resident_in_scope(ctx: ServiceContext, actor: Actor, resident_id: int) -> Resident:
    row = ctx.session.execute(
        select(Resident)
        .join(Household, Household.id == Resident.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Grid, Grid.id == Unit.grid_id)
        .where(Resident.id == resident_id, unit_scope(actor))
    ).scalar_one_or_none()
    if row is None:
        audit(ctx, actor, "refused", "resident outside scope")
        raise NotFoundError(str(resident_id))
    return row


def resident(ctx: ServiceContext, actor: Actor, resident_id: int) -> tuple[Resident, str]:
    r = _resident_in_scope(ctx, actor, resident_id)
    hh = ctx.session.get(Household, r.household_id)
    return r, hh.address if hh else ""


def update_resident(
    ctx: ServiceContext,
    actor: Actor,
    resident_id: int,
    *,
    name: str,
    phone: str,
    birth_year: int | None,
    lives_alone: bool,
    prefers_voice: bool,
) -> None:
    """Edit a resident in the actor's part of the community (ValueError for a bad phone or name)."""
    r = _resident_in_scope(ctx, actor, resident_id)
    if not name.strip() or len(name) > 50:
        raise ValueError("name")
    if phone and not PHONE.match(phone):
        raise ValueError("phone")
    if birth_year is not None and not 1900 <= birth_year <= ctx.clock.now().year:
        raise ValueError("birth_year")
    r.name, r.phone, r.birth_year = name.strip(), phone or None, birth_year
    r.lives_alone, r.prefers_voice = lives_alone, prefers_voice
    audit(ctx, actor, "registry_edit", f"resident {r.id}")


def staff_list(ctx: ServiceContext, actor: Actor) -> list[tuple[Staff, str]]:
    """Leaders and grid workers in the actor's part of the community, with their unit or grid."""
    rows = ctx.session.execute(
        select(Staff, Unit.name, Grid.name)
        .outerjoin(Unit, Unit.id == Staff.unit_id)
        .join(Grid, Grid.id == func.coalesce(Staff.grid_id, Unit.grid_id))
        .where(Staff.role.in_(("leader", "grid")), Staff.community_id == actor.community_id)
        .order_by(Staff.role.desc(), Staff.id)
    ).all()
    out = []
    for staff, unit_name, grid_name in rows:
        if actor.role == "grid" and staff.grid_id != actor.grid_id:
            continue
        if actor.role == "leader" and staff.id != actor.staff_id:
            continue
        out.append((staff, unit_name or grid_name))
    return out


def update_staff(
    ctx: ServiceContext, actor: Actor, staff_id: int, *, name: str, phone: str, active: bool
) -> None:
    """Community staff keep the list of leaders and grid workers."""
    if actor.role != "staff":
        audit(ctx, actor, "refused", "edit staff")
        raise PermissionDenied("staff")
    person = ctx.session.get(Staff, staff_id)
    if person is None or person.community_id != actor.community_id or person.role not in ("leader", "grid"):
        raise NotFoundError(str(staff_id))
    if not name.strip() or (phone and not PHONE.match(phone)):
        raise ValueError("name or phone")
    person.name, person.phone, person.active = name.strip(), phone or None, active
    audit(ctx, actor, "registry_edit", f"staff {person.id}")


@dataclass
class ImportPreview:
    problems: list[Problem]
    summary: str
    changes: list[str]


def preview_import(ctx: ServiceContext, actor: Actor, path: Path) -> ImportPreview:
    """What importing the file would change, found by running the real import and rolling it back;
    every bad row when it would be refused. Nothing is written either way."""
    _require_import(ctx, actor)
    before = _counts(ctx)
    nested = ctx.session.begin_nested()
    try:
        summary = import_registry(ctx, path)
        after = _counts(ctx)
    except ImportFailed as err:
        nested.rollback()
        return ImportPreview(err.problems, "", [])
    nested.rollback()
    changes = [f"{k}: +{after[k] - before[k]}" for k in after if after[k] != before[k]]
    return ImportPreview([], summary, changes)


def run_import(ctx: ServiceContext, actor: Actor, path: Path) -> str:
    _require_import(ctx, actor)
    summary = import_registry(ctx, path)
    audit(ctx, actor, "registry_import", summary)
    return summary


def _require_import(ctx: ServiceContext, actor: Actor) -> None:
    if not may_open(actor, "registry_import"):
        audit(ctx, actor, "refused", "registry import")
        raise PermissionDenied("import")


def _counts(ctx: ServiceContext) -> dict[str, int]:
    s = ctx.session
    return {
        "grids": s.scalar(select(func.count(Grid.id))) or 0,
        "units": s.scalar(select(func.count(Unit.id))) or 0,
        "households": s.scalar(select(func.count(Household.id))) or 0,
        "residents": s.scalar(select(func.count(Resident.id))) or 0,
        "leaders": s.scalar(select(func.count(Staff.id)).where(Staff.role == "leader")) or 0,
        "grid_workers": s.scalar(select(func.count(Staff.id)).where(Staff.role == "grid")) or 0,
    }


def export_rows(ctx: ServiceContext, actor: Actor) -> list[list[str]]:
    """Residents and leaders in the importer's columns (a header row first), so an export imports back
    (grid workers are kept on the staff page: the importer wants an address on every row)."""
    if not may_open(actor, "registry_import"):
        audit(ctx, actor, "refused", "registry export")
        raise PermissionDenied("export")
    leaders = {
        rid
        for (rid,) in ctx.session.execute(
            select(Staff.resident_id).where(Staff.role == "leader", Staff.active)
        )
    }
    rows = ctx.session.execute(
        select(Resident, Household, Unit.name, Grid.name)
        .join(Household, Household.id == Resident.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Grid, Grid.id == Unit.grid_id)
        .where(Grid.community_id == actor.community_id)
        .order_by(Grid.id, Unit.id, Household.building, Household.entrance, Household.room, Resident.id)
    ).all()
    out = [EXPORT_HEADER]
    for r, hh, unit, grid in rows:
        out.append(
            [
                grid,
                unit,
                hh.building,
                hh.entrance,
                hh.room,
                r.name,
                r.phone or "",
                str(r.birth_year or ""),
                "是" if r.lives_alone else "否",
                "是" if r.prefers_voice else "否",
                "联户长" if r.id in leaders else "",
            ]
        )
    audit(ctx, actor, "registry_export", f"{len(out) - 1} rows")
    return out


def as_csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 with the BOM as Chinese text


def as_xlsx(rows: list[list[str]], title: str = "台账") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass(frozen=True)
class CardLine:
    name: str
    code: str
    link: str


def invitation_card(
    ctx: ServiceContext, actor: Actor, household_id: int, base_url: str, days: int = 30
) -> tuple[str, list[CardLine]]:
    """Fresh invitation codes and web links for every resident of a household, to print and hand over."""
    hh = ctx.session.execute(
        _scoped_households().where(Household.id == household_id, unit_scope(actor))
    ).scalar_one_or_none()
    if hh is None:
        audit(ctx, actor, "refused", "invitation card outside scope")
        raise NotFoundError(str(household_id))
    lines = []
    for r in ctx.session.scalars(
        select(Resident).where(Resident.household_id == hh.id).order_by(Resident.id)
    ):
        code = invite_resident(ctx, r.id, days)
        ident = get_or_create_identity(ctx, "web", f"card-{r.id}-{secrets.token_hex(4)}")
        ident.resident_id = r.id
        token = issue_token(ctx, ident, days)
        lines.append(CardLine(r.name, code or "", f"{base_url}/chat?token={token}"))
    audit(ctx, actor, "invitation_card", f"household {hh.id}")
    return hh.address, lines
