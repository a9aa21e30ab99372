"""Invitation codes that bind a new channel account to a registered resident."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from data.models import Invitation, Resident
from data.services import ServiceContext

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud


def new_code() -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(6))
        if not code.isdigit():
            return code


def create_invitation(ctx: ServiceContext, phone: str, days: int = 14) -> str | None:
    resident = ctx.session.scalar(select(Resident).where(Resident.phone == phone).limit(1))
    if resident is None:
        return None
    return invite_resident(ctx, resident.id, days)


def invite_resident(ctx: ServiceContext, resident_id: int, days: int = 14) -> str:
    """A new invitation code for one resident (the workbench prints these on household cards)."""
    code = new_code()
    now = ctx.clock.now()
    ctx.session.add(
        Invitation(code=code, resident_id=resident_id, created_at=now, expires_at=now + timedelta(days=days))
    )
    ctx.session.flush()
    return code
