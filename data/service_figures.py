"""Figures of the service resources (转介): per provider, tickets referred, accepted in time, resolved,
returned, satisfaction; and the community's 供需错位率 (needs not met by the service they were
referred to), beside the seed's target of at most 15 %."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from data.models import Referral, Ticket
from data.services import ServiceContext

MISMATCH_TARGET = 0.15


@dataclass(frozen=True)
class ProviderFigures:
    code: str
    name: str
    kind: str
    referred: int
    accepted_in_time: int
    resolved: int
    returned: int
    ratings: int
    satisfied: int  # 满意 + 基本满意

    @property
    def satisfaction_rate(self) -> float | None:
        return round(self.satisfied / self.ratings, 4) if self.ratings else None

    @property
    def in_time_rate(self) -> float | None:
        return round(self.accepted_in_time / self.referred, 4) if self.referred else None


def provider_figures(
    ctx: ServiceContext, start: datetime, end: datetime, grid_id: int | None = None
) -> list[ProviderFigures]:
    """One row per resource of the list (in its order), over the referrals made in the period."""
    conds = [Referral.referred_at >= start, Referral.referred_at < end]
    stmt = select(
        Referral.resource_code,
        func.count(Referral.id),
        func.sum(case((Referral.accepted_at <= Referral.accept_due_at, 1), else_=0)),
        func.sum(case((Referral.resolved_at.is_not(None), 1), else_=0)),
        func.sum(case((Referral.status == "returned", 1), else_=0)),
        func.sum(case((Referral.rating.is_not(None), 1), else_=0)),
        func.sum(case((Referral.rating.in_((1, 2)), 1), else_=0)),
    ).where(*conds)
    if grid_id is not None:
        stmt = stmt.join(Ticket, Ticket.id == Referral.ticket_id).where(Ticket.grid_id == grid_id)
    rows = {r[0]: r[1:] for r in ctx.session.execute(stmt.group_by(Referral.resource_code))}
    out = []
    for res in ctx.resources.resources:
        n, in_time, resolved, returned, rated, satisfied = rows.pop(res.code, (0, 0, 0, 0, 0, 0))
        out.append(
            ProviderFigures(
                res.code,
                res.name,
                res.kind,
                int(n),
                int(in_time or 0),
                int(resolved or 0),
                int(returned or 0),
                int(rated or 0),
                int(satisfied or 0),
            )
        )
    for code, (n, in_time, resolved, returned, rated, satisfied) in rows.items():  # removed from the list
        out.append(
            ProviderFigures(
                code,
                code,
                "",
                int(n),
                *(int(v or 0) for v in (in_time, resolved, returned, rated, satisfied)),
            )
        )
    return out


def mismatch_rate(rows: list[ProviderFigures]) -> float | None:
    """供需错位率: referrals the provider gave back or the resident was not satisfied with, among all
    referrals of the period (None when there were none)."""
    referred = sum(r.referred for r in rows)
    if not referred:
        return None
    missed = sum(r.returned + (r.ratings - r.satisfied) for r in rows)
    return round(missed / referred, 4)
