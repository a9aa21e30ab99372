"""The audit log as community staff read it: sign-ins, every workbench action, refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from core.conversation import Actor
from core.errors import PermissionDenied
from data.models import AuditLog, Identity, Staff
from data.services import ServiceContext
from data.services.handling import audit
from data.services.visibility import may_open


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    channel: str
    action: str
    detail: str


def entries(ctx: ServiceContext, actor: Actor, page: int = 1, size: int = 100) -> tuple[list[Entry], int]:
    """Newest first; (entries, pages). Only community staff may read it (a refusal is logged too)."""
    if not may_open(actor, "audit"):
        audit(ctx, actor, "refused", "audit log")
        raise PermissionDenied("audit")
    total = ctx.session.scalar(select(func.count(AuditLog.id))) or 0
    pages = max(1, -(-total // size))
    rows = ctx.session.execute(
        select(AuditLog, Identity.channel, Staff.name)
        .outerjoin(Identity, Identity.id == AuditLog.identity_id)
        .outerjoin(Staff, Staff.id == Identity.staff_id)
        .order_by(AuditLog.id.desc())
        .limit(size)
        .offset((min(max(page, 1), pages) - 1) * size)
    ).all()
    return [Entry(a.at, name or "", channel or "", a.action, a.detail) for a, channel, name in rows], pages
