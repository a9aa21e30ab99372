"""Invitation codes that bind a new channel account to a registered resident."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from data.models import Invitation, Resident, Staff
from data.services import ServiceContext

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud


def new_code() -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(6))
        if not code.isdigit():
            return code


def create_invitation(ctx: ServiceContext, phone: str, days: int = 14) -> str | None:
    """A code binding a channel account to whoever has this phone number: a resident, or a role holder
    (a leader or grid worker from the registry, who then gets their tasks on that account)."""
    staff = ctx.session.scalar(
        select(Staff).where(Staff.phone == phone, Staff.active.is_(True)).order_by(Staff.id).limit(1)
    )
    resident = ctx.session.scalar(select(Resident).where(Resident.phone == phone).limit(1))
    if resident is None and staff is None:
        return None
    resident_id = staff.resident_id if staff is not None and staff.resident_id else None
    if resident_id is None and resident is not None:
        resident_id = resident.id
    return invite_resident(ctx, resident_id, days, staff_id=staff.id if staff is not None else None)


def invite_resident(
    ctx: ServiceContext, resident_id: int | None, days: int = 14, *, staff_id: int | None = None
) -> str:
    """A new invitation code for one resident or role holder (the workbench prints these on household cards)."""
    code = new_code()
    now = ctx.clock.now()
    ctx.session.add(
        Invitation(
            code=code,
            resident_id=resident_id,
            staff_id=staff_id,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    ctx.session.flush()
    return code
