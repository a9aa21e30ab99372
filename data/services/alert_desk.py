"""The alerts page: cluster warnings (预警) and emergencies nobody has acknowledged, within the actor's
part of the community; acknowledging them from there. An emergency is acknowledged by accepting it,
exactly as from the chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, true

from core.conversation import Actor
from core.errors import NotFoundError
from data import workflow
from data.models import Alert, Staff, Ticket, Unit
from data.services import ServiceContext
from data.services.board import BoardRow, _realert_counts, rows
from data.services.handling import audit
from data.services.visibility import visible_filter


@dataclass(frozen=True)
class ClusterAlert:
    id: int
    created_at: datetime
    scope: str  # unit | grid
    place: str
    item: str
    count: int
    acknowledged_at: datetime | None
    acknowledged_by: str


def _place(ctx: ServiceContext, alert: Alert) -> tuple[str, int | None, int | None]:
    """(label, unit id, grid id) from the alert's key: cluster:SCOPE:ID:ITEM:FIRST."""
    parts = alert.key.split(":")
    scope, ident = parts[1], int(parts[2])
    if scope == "unit":
        unit = ctx.session.get(Unit, ident)
        return (unit.name if unit else "", ident, unit.grid_id if unit else None)
    return (ctx.words("note.this_grid"), None, ident)


def _in_scope(actor: Actor, unit_id: int | None, grid_id: int | None) -> bool:
    if actor.role in ("staff", "duty"):
        return True
    if actor.role == "grid":
        return grid_id == actor.grid_id
    return actor.role == "leader" and unit_id is not None and unit_id == actor.unit_id


def cluster_alerts(ctx: ServiceContext, actor: Actor, limit: int = 50) -> list[ClusterAlert]:
    out = []
    for alert in ctx.session.scalars(
        select(Alert).where(Alert.kind == "cluster").order_by(Alert.id.desc()).limit(limit * 4)
    ):
        place, unit_id, grid_id = _place(ctx, alert)
        if not _in_scope(actor, unit_id, grid_id):
            continue
        who = ctx.session.get(Staff, alert.acknowledged_by) if alert.acknowledged_by else None
        item = alert.key.split(":")[3]
        out.append(
            ClusterAlert(
                id=alert.id,
                created_at=alert.created_at,
                scope=alert.detail.get("scope", ""),
                place=place,
                item=ctx.catalog.item(item).name if item in {i.code for i in ctx.catalog.items()} else item,
                count=int(alert.detail.get("count", 0)),
                acknowledged_at=alert.acknowledged_at,
                acknowledged_by=who.name if who else "",
            )
        )
    return out[:limit]


def acknowledge_cluster(ctx: ServiceContext, actor: Actor, alert_id: int) -> None:
    alert = ctx.session.get(Alert, alert_id)
    if alert is None or alert.kind != "cluster":
        raise NotFoundError(str(alert_id))
    _label, unit_id, grid_id = _place(ctx, alert)
    if not _in_scope(actor, unit_id, grid_id):
        audit(ctx, actor, "refused", f"acknowledge alert {alert_id}")
        raise NotFoundError(str(alert_id))
    if alert.acknowledged_at is None:
        alert.acknowledged_at = ctx.clock.now()
        alert.acknowledged_by = actor.staff_id
        audit(ctx, actor, "workbench", f"acknowledge alert {alert_id}")


def open_emergencies(ctx: ServiceContext, actor: Actor) -> list[BoardRow]:
    """Emergencies still waiting for someone to acknowledge them, oldest first."""
    found = list(
        ctx.session.scalars(
            select(Ticket)
            .where(
                visible_filter(actor),
                Ticket.urgent == true(),
                Ticket.acknowledged_at.is_(None),
                Ticket.status.in_(workflow.ACTIVE),
            )
            .order_by(Ticket.created_at)
        )
    )
    return rows(ctx, found, _realert_counts(ctx, [t.id for t in found]))
