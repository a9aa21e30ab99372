"""Human hand-off: a call-back task for the unit leader, or the leader's contact."""

from __future__ import annotations

from core.messages import Reply
from data.models import Household, Resident
from data.services.directory import grid_worker_of, leader_of_unit
from data.services.handling import audit
from data.services.outbox import notify
from handlers.base import Result, Turn, done, handler


@handler("human.handoff")
def handoff(turn: Turn) -> Result:
    """Queue a call-back request to the leader (or the grid worker when the unit has none)."""
    svc, actor = turn.svc, turn.actor
    staff = leader_of_unit(svc, actor.unit_id) if actor.unit_id else None
    if staff is None and actor.grid_id:
        staff = grid_worker_of(svc, actor.grid_id)
    if staff is None:
        return done(Reply("human.no_leader"))
    res = svc.session.get(Resident, actor.resident_id) if actor.resident_id else None
    hh = svc.session.get(Household, actor.household_id) if actor.household_id else None
    params = {
        "name": actor.name,
        "phone": (res.phone if res else "") or "",
        "address": hh.address if hh else "",
    }
    notify(
        svc,
        kind="callback",
        key="leader.callback",
        params=params,
        staff_id=staff.id,
        event_id=f"callback-{actor.identity_id}-{svc.clock.now().isoformat()}",
    )
    audit(svc, actor, "callback", f"staff {staff.id}")
    return done(Reply("human.handoff"))


@handler("human.leader")
def leader_contact(turn: Turn) -> Result:
    svc, actor = turn.svc, turn.actor
    leader = leader_of_unit(svc, actor.unit_id) if actor.unit_id else None
    if leader is None:
        return handoff(turn)
    return done(Reply("human.leader_contact", {"name": leader.name, "phone": leader.phone or ""}))
