"""Who is who: identities, residents, staff roles, households, web tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import bindparam, select

from core.conversation import Actor
from data.db import Prepared
from data.models import Grid, Household, Identity, Resident, Staff, Unit, WebToken, format_address
from data.services import ServiceContext


def split_ref(ref: str) -> tuple[str, str]:
    """'demo:resident1' -> ('demo', 'resident1')."""
    channel, sep, external = ref.partition(":")
    if not sep or not channel or not external:
        raise ValueError(f"identity must look like channel:id, got {ref!r}")
    return channel, external


def get_or_create_identity(ctx: ServiceContext, channel: str, external_id: str) -> Identity:
    s = ctx.session
    ident = s.scalar(select(Identity).where(Identity.channel == channel, Identity.external_id == external_id))
    if ident is None:
        ident = Identity(channel=channel, external_id=external_id, created_at=ctx.clock.now())
        s.add(ident)
        s.flush()
    return ident


def find_identity(ctx: ServiceContext, ref: str) -> Identity | None:
    channel, external = split_ref(ref)
    return ctx.session.scalar(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external)
    )


def actor_for(ctx: ServiceContext, ident: Identity) -> Actor:
    base = Actor(identity_id=ident.id, channel=ident.channel, external_id=ident.external_id, role="unbound")
    if ident.staff_id is not None:
        actor = staff_actor(ctx, base, ident.staff_id)
        if actor is not base:
            return actor
    s = ctx.session
    if ident.resident_id is not None:
        row = s.execute(
            select(Resident.name, Resident.household_id, Household.unit_id, Unit.grid_id, Grid.community_id)
            .join(Household, Resident.household_id == Household.id)
            .join(Unit, Household.unit_id == Unit.id)
            .join(Grid, Unit.grid_id == Grid.id)
            .where(Resident.id == ident.resident_id)
        ).first()
        if row is not None:
            return resident_actor(
                base,
                ident.resident_id,
                row.name,
                row.household_id,
                row.unit_id,
                row.grid_id,
                row.community_id,
            )
    return base


def resident_actor(
    base: Actor,
    resident_id: int,
    name: str,
    household_id: int,
    unit_id: int,
    grid_id: int,
    community_id: int,
) -> Actor:
    return replace(
        base,
        role="resident",
        name=name,
        resident_id=resident_id,
        household_id=household_id,
        unit_id=unit_id,
        grid_id=grid_id,
        community_id=community_id,
    )


def staff_actor(ctx: ServiceContext, base: Actor, staff_id: int) -> Actor:
    """The staff member behind an identity, or `base` when they are no longer active."""
    s = ctx.session
    staff = s.get(Staff, staff_id)
    if staff is None or not staff.active:
        return base
    grid_id = staff.grid_id
    if staff.unit_id is not None and grid_id is None:
        grid_id = s.get(Unit, staff.unit_id).grid_id  # type: ignore[union-attr]
    household_id = None
    if staff.resident_id:
        household_id = s.get(Resident, staff.resident_id).household_id  # type: ignore[union-attr]
    return replace(
        base,
        role=staff.role,
        name=staff.name,
        staff_id=staff.id,
        resident_id=staff.resident_id,
        household_id=household_id,
        unit_id=staff.unit_id,
        grid_id=grid_id,
        community_id=staff.community_id,
    )


def find_household(
    ctx: ServiceContext, building: str | None, entrance: str | None, room: str | None
) -> Household | None:
    """A household by address; the entrance (单元) may be omitted when the room is unique."""
    if not building or not room:
        return None
    q = select(Household).where(Household.building == building, Household.room == room)
    if entrance:
        q = q.where(Household.entrance == entrance)
    found = list(ctx.session.scalars(q.limit(2)))
    return found[0] if len(found) == 1 else None


_ADDRESS = Prepared(
    select(Household.building, Household.entrance, Household.room).where(
        Household.id == bindparam("household_id")
    )
)


def household_address(ctx: ServiceContext, household_id: int) -> str | None:
    """A household's address as said back to residents, or None when there is no such household."""
    row = _ADDRESS.run(ctx.session.connection(), {"household_id": household_id}).fetchone()
    return format_address(*row) if row else None


def residents_of(ctx: ServiceContext, household_id: int) -> list[Resident]:
    return list(ctx.session.scalars(select(Resident).where(Resident.household_id == household_id)))


def leader_of_unit(ctx: ServiceContext, unit_id: int) -> Staff | None:
    return ctx.session.scalar(
        select(Staff).where(Staff.role == "leader", Staff.unit_id == unit_id, Staff.active.is_(True)).limit(1)
    )


def grid_worker_of(ctx: ServiceContext, grid_id: int) -> Staff | None:
    return ctx.session.scalar(
        select(Staff).where(Staff.role == "grid", Staff.grid_id == grid_id, Staff.active.is_(True)).limit(1)
    )


def community_staff(ctx: ServiceContext, community_id: int) -> Staff | None:
    return ctx.session.scalar(
        select(Staff)
        .where(Staff.role == "staff", Staff.community_id == community_id, Staff.active.is_(True))
        .order_by(Staff.id)
        .limit(1)
    )


def identities_of(
    ctx: ServiceContext, *, resident_id: int | None = None, staff_id: int | None = None
) -> list[Identity]:
    """Every channel account bound to a person, for delivering notifications."""
    q = select(Identity)
    if staff_id is not None:
        q = q.where(Identity.staff_id == staff_id)
    elif resident_id is not None:
        q = q.where(Identity.resident_id == resident_id, Identity.staff_id.is_(None))
    else:
        return []
    return list(ctx.session.scalars(q.order_by(Identity.id)))


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(ctx: ServiceContext, identity: Identity, days: int) -> str:
    """A bearer token for the web page / API, bound to one identity. Only its hash is stored."""
    token = secrets.token_urlsafe(24)
    now = ctx.clock.now()
    ctx.session.add(
        WebToken(
            token_hash=_hash_token(token),
            identity_id=identity.id,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    ctx.session.flush()
    return token


def identity_for_token(ctx: ServiceContext, token: str) -> Identity | None:
    row = ctx.session.scalar(select(WebToken).where(WebToken.token_hash == _hash_token(token)))
    if row is None or row.revoked or row.expires_at < ctx.clock.now():
        return None
    return ctx.session.get(Identity, row.identity_id)


def mask_phone(phone: str | None) -> str:
    """138****5678: what logs and other people may see of a phone number."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"
