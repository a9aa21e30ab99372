"""Binding a new channel account to a resident: an invitation code, or an address the leader confirms."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select

from core.conversation import State
from core.messages import Reply
from data.models import Household, Identity, Invitation, Resident
from data.services.abuse import BIND_REQUESTED, binding_requests_today, limited
from data.services.directory import find_household, leader_of_unit, residents_of
from data.services.handling import audit
from data.services.outbox import notify
from handlers.base import Result, Turn, ask, done, handler
from handlers.menus import MAIN, STAFF

CODE = re.compile(r"\b([A-Za-z0-9]{6})\b")


def redeem(turn: Turn, code: str) -> Result | None:
    """Bind with an invitation code; None when the code is unknown."""
    svc = turn.svc
    inv = svc.session.scalar(select(Invitation).where(Invitation.code == code.upper()))
    if inv is None or inv.used_at is not None or inv.expires_at < svc.clock.now():
        return None
    ident = svc.session.get(Identity, turn.actor.identity_id)
    assert ident is not None
    ident.resident_id, ident.staff_id = inv.resident_id, inv.staff_id
    inv.used_at = svc.clock.now()
    name = ""
    if inv.resident_id:
        res = svc.session.get(Resident, inv.resident_id)
        name = res.name if res else ""
    audit(svc, turn.actor, "bound", f"invitation {inv.id}")
    return done(
        Reply("bind.done", {"name": name}), Reply("menu.main", choices=STAFF if inv.staff_id else MAIN)
    )


@handler("bind.input")
def bind_input(turn: Turn) -> Result:
    """An unbound user gets only help, the menu and binding."""
    m = CODE.search(turn.text.upper()) if not turn.parse.entities.ticket_no else None
    if m and not m.group(1).isdigit():
        result = redeem(turn, m.group(1))
        if result is not None:
            return result
        return ask([Reply("bind.bad_code")], State.BIND)
    addr = turn.parse.entities.address
    if addr is not None and addr.building and addr.room:
        hh = find_household(turn.svc, addr.building, addr.unit, addr.room)
        if hh is None:
            return ask([Reply("report.address_not_found")], State.BIND)
        return request_approval(turn, hh.id, hh.unit_id, hh.address)
    if turn.state.name == State.BIND and turn.text:
        return ask([Reply("bind.ask")], State.BIND)
    return ask([Reply("greet.welcome_unbound")], State.BIND)


def request_approval(turn: Turn, household_id: int, unit_id: int, address: str) -> Result:
    svc = turn.svc
    if binding_requests_today(svc, turn.actor) >= svc.limits.binding_requests_per_day:
        limited(svc, turn.actor, "binding requests")
        return done(Reply("guard.too_many_bindings"))
    audit(svc, turn.actor, BIND_REQUESTED, f"household {household_id}")
    ident = svc.session.get(Identity, turn.actor.identity_id)
    assert ident is not None
    ident.pending_household_id = household_id
    ident.pending_code = ident.pending_code or secrets.token_hex(3).upper()
    leader = leader_of_unit(svc, unit_id)
    if leader is not None:
        notify(
            svc,
            kind="binding",
            key="bind.leader_confirm",
            staff_id=leader.id,
            event_id=f"bind-{ident.id}-{household_id}",
            params={"name": turn.actor.external_id[-4:], "address": address, "code": ident.pending_code},
        )
    return done(Reply("bind.pending"))


def approve_binding(turn: Turn, code: str) -> Result:
    """A leader confirms a pending binding in their unit: 同意绑定 CODE."""
    svc = turn.svc
    ident = svc.session.scalar(select(Identity).where(Identity.pending_code == code.upper()))
    if ident is None or ident.pending_household_id is None:
        return done(Reply("bind.bad_code"))
    people = residents_of(svc, ident.pending_household_id)

    hh = svc.session.get(Household, ident.pending_household_id)
    if hh is None or not people or turn.actor.unit_id != hh.unit_id:
        audit(svc, turn.actor, "refused", "approve binding outside unit")
        return done(Reply("leader.not_yours"))
    ident.resident_id = people[0].id
    ident.pending_household_id = None
    ident.pending_code = None
    audit(svc, turn.actor, "bound", f"identity {ident.id}")
    notify(
        svc,
        kind="bound",
        key="bind.done",
        resident_id=people[0].id,
        event_id=f"bound-{ident.id}",
        params={"name": people[0].name},
    )
    return done(Reply("bind.confirmed"))
