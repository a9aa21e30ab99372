"""The demo community: 1 community, 2 grids, 6 units, 72 households, residents, leaders, grid workers.

Loaded into an empty database by `python -m bot serve --demo`. Names and phone numbers are invented.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from data.models import Activity, Community, Grid, Household, Identity, Resident, Staff, Unit
from data.services import ServiceContext
from data.services.referrals import ensure_providers

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "秀英",
    "建国",
    "桂芳",
    "玉兰",
    "志强",
    "淑珍",
    "国华",
    "丽娟",
    "德福",
    "春梅",
    "海燕",
    "永红",
    "明亮",
    "素芬",
    "家宝",
]
# (building, entrance) of units U1..U6; U1 holds the demo resident at 3 栋 2 单元 502.
UNITS = [("3", "2"), ("3", "1"), ("2", "1"), ("2", "2"), ("1", "1"), ("1", "2")]
ROOMS = [f"{floor}0{door}" for floor in range(1, 7) for door in (1, 2)]
# Every demo staff member signs in to the workbench with their phone and DEMO_PASSWORD. The argon2id
# hash is computed once here (hashing it per load would add a tenth of a second to every test).
DEMO_PASSWORD = "lianhu2026"
DEMO_PASSWORD_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$RdQ7chv04GqaBK/G2OkPzA$tyMaEpH09/zthhc0YMSsA0hKmw56XaDn68mnJ1k3Ci0"
)


def is_empty(ctx: ServiceContext) -> bool:
    return not ctx.session.scalar(select(func.count(Community.id)))


def load_demo(ctx: ServiceContext, community_name: str = "幸福里社区") -> None:
    """Create the demo community and its demo identities (demo:resident1, demo:leader1 ...)."""
    s, now = ctx.session, ctx.clock.now()
    community = Community(code="demo", name=community_name)
    s.add(community)
    s.flush()
    grids = [Grid(community_id=community.id, code=f"G{i}", name=f"第{i}网格") for i in (1, 2)]
    s.add_all(grids)
    s.flush()
    serial = 0
    units: list[Unit] = []
    households: dict[tuple[str, str, str], Household] = {}
    residents: dict[tuple[str, str, str], list[Resident]] = {}
    for index, (building, entrance) in enumerate(UNITS):
        unit = Unit(
            grid_id=grids[index // 3].id, code=f"U{index + 1}", name=f"{building}栋{entrance}单元联户单元"
        )
        s.add(unit)
        s.flush()
        units.append(unit)
        for room in ROOMS:
            hh = Household(unit_id=unit.id, building=building, entrance=entrance, room=room)
            s.add(hh)
            s.flush()
            households[(building, entrance, room)] = hh
            people = []
            for k in range(1 + serial % 3):
                serial += 1
                people.append(
                    Resident(
                        household_id=hh.id,
                        name=SURNAMES[serial % len(SURNAMES)] + GIVEN[(serial * 7 + k) % len(GIVEN)],
                        phone=f"1380000{serial:04d}",
                        birth_year=1940 + (serial * 13) % 60,
                        lives_alone=False,
                    )
                )
            s.add_all(people)
            residents[(building, entrance, room)] = people
    s.flush()

    # The demo people the README and tests talk about.
    r1 = residents[("3", "2", "502")][0]
    for extra in residents[("3", "2", "502")][1:]:
        s.delete(extra)
    r1.name, r1.birth_year, r1.lives_alone, r1.prefers_voice, r1.phone = (
        "王秀英",
        1942,
        True,
        True,
        "13800000502",
    )
    r2 = residents[("3", "2", "301")][0]
    r2.name, r2.birth_year, r2.phone = "李建国", 1958, "13800000301"
    s.flush()

    staff: dict[str, Staff] = {}
    for index, unit in enumerate(units[:5]):  # U6 has no leader: its tickets fall back to the grid worker
        building, entrance = UNITS[index]
        host = residents[(building, entrance, "101")][0]
        if index == 0:
            host.name, host.phone = "张桂芳", "13900000101"
        leader = Staff(
            community_id=community.id,
            role="leader",
            name=host.name,
            phone=host.phone,
            unit_id=unit.id,
            grid_id=unit.grid_id,
            resident_id=host.id,
        )
        s.add(leader)
        staff[f"leader{index + 1}"] = leader
    for i, grid in enumerate(grids, start=1):
        worker = Staff(
            community_id=community.id,
            role="grid",
            name=f"{'刘周'[i - 1]}网格员",
            phone=f"1370000000{i}",
            grid_id=grid.id,
        )
        s.add(worker)
        staff[f"grid{i}"] = worker
    staff["staff1"] = Staff(community_id=community.id, role="staff", name="社区办公室", phone="08510000001")
    staff["duty"] = Staff(community_id=community.id, role="duty", name="社区值班", phone="08510000110")
    s.add_all([staff["staff1"], staff["duty"]])
    for person in staff.values():
        person.password_hash = DEMO_PASSWORD_HASH
    s.flush()

    idents = [
        Identity(channel="demo", external_id="resident1", resident_id=r1.id, created_at=now),
        Identity(channel="demo", external_id="resident2", resident_id=r2.id, created_at=now),
    ]
    for key, person in staff.items():
        idents.append(Identity(channel="demo", external_id=key, staff_id=person.id, created_at=now))
    # Every service resource of the list gets its provider account: demo:provider-<code>.
    for provider in ensure_providers(ctx, community.id):
        ref = f"provider-{provider.resource_code}"
        idents.append(Identity(channel="demo", external_id=ref, staff_id=provider.id, created_at=now))
    s.add_all(idents)
    s.flush()
    _demo_activity(ctx, community.id, units[0], staff["leader1"])


def _demo_activity(ctx: ServiceContext, community_id: int, unit: Unit, leader: Staff) -> None:
    """One upcoming activity of unit 1 (activity number 1001), three days ahead at 15:00 local time.
    Stored as it stands, without announcing it (the demo's residents have not been told yet)."""
    now = ctx.clock.now()
    local = ctx.local(now) + timedelta(days=3)
    start_local = local.replace(hour=15, minute=0, second=0, microsecond=0)
    starts_at = now + (start_local - ctx.local(now))
    ctx.session.add(
        Activity(
            public_no="1001",
            community_id=community_id,
            title="重阳敬老包饺子",
            starts_at=starts_at,
            place="社区活动室",
            capacity=20,
            scope="unit",
            unit_id=unit.id,
            created_by=leader.id,
            created_at=now,
            status="open",
        )
    )
    ctx.session.flush()
