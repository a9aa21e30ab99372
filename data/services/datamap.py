"""社区数据地图: a schematic of grids → buildings → units, with each unit's households, elders living
alone and open matters by category (the heat shade), within the actor's part of the community."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from core.conversation import Actor
from data import workflow
from data.models import Grid, Household, Resident, Ticket, Unit
from data.services import ServiceContext
from data.services.visibility import unit_scope

ELDER_AGE = 60
HEAT_LEVELS = 5


@dataclass
class UnitCell:
    id: int
    name: str
    households: int = 0
    residents: int = 0
    elders_alone: int = 0
    open_by_category: dict[str, int] = field(default_factory=dict)
    open_total: int = 0
    heat: int = 0  # 0 (none open) .. HEAT_LEVELS


@dataclass
class Building:
    name: str
    units: list[UnitCell]


@dataclass
class GridBlock:
    id: int
    name: str
    buildings: list[Building]


def community_map(ctx: ServiceContext, actor: Actor) -> list[GridBlock]:
    s = ctx.session
    units = s.execute(
        select(Unit.id, Unit.name, Grid.id, Grid.name)
        .join(Grid, Grid.id == Unit.grid_id)
        .where(unit_scope(actor))
        .order_by(Grid.id, Unit.id)
    ).all()
    ids = [u for u, _n, _g, _gn in units]
    cells = {u: UnitCell(u, name) for u, name, _g, _gn in units}
    buildings: dict[int, set[str]] = defaultdict(set)
    for unit_id, building, n in s.execute(
        select(Household.unit_id, Household.building, func.count(Household.id))
        .where(Household.unit_id.in_(ids))
        .group_by(Household.unit_id, Household.building)
    ):
        cells[unit_id].households += n
        buildings[unit_id].add(building)
    oldest = ctx.clock.now().year - ELDER_AGE
    for unit_id, n, alone in s.execute(
        select(
            Household.unit_id,
            func.count(Resident.id),
            func.count(Resident.id).filter(Resident.lives_alone.is_(True), Resident.birth_year <= oldest),
        )
        .join(Household, Household.id == Resident.household_id)
        .where(Household.unit_id.in_(ids))
        .group_by(Household.unit_id)
    ):
        cells[unit_id].residents, cells[unit_id].elders_alone = n, alone
    names = {c.code: c.name for c in ctx.catalog.categories}
    for ticket_unit, category, n in s.execute(
        select(Ticket.unit_id, Ticket.category, func.count(Ticket.id))
        .where(Ticket.unit_id.in_(ids), Ticket.status.in_(workflow.ACTIVE))
        .group_by(Ticket.unit_id, Ticket.category)
    ):
        if ticket_unit is None:
            continue
        cells[ticket_unit].open_by_category[names.get(category, category)] = n
        cells[ticket_unit].open_total += n
    top = max((c.open_total for c in cells.values()), default=0)
    for c in cells.values():
        c.heat = 0 if not c.open_total else max(1, round(HEAT_LEVELS * c.open_total / top))
    grids: dict[int, GridBlock] = {}
    for u, _name, g, gname in units:
        block = grids.setdefault(g, GridBlock(g, gname, []))
        label = "、".join(f"{b} 栋" for b in sorted(buildings[u])) or "未登记楼栋"
        found = next((b for b in block.buildings if b.name == label), None)
        if found is None:
            found = Building(label, [])
            block.buildings.append(found)
        found.units.append(cells[u])
    return list(grids.values())
