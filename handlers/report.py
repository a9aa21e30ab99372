"""Reporting a problem: understand → read back with the address → confirm → ticket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, literal_column, select

from core.conversation import State
from core.messages import Choice, Reply
from data import workflow
from data.db import Prepared
from data.models import Household, Resident, Ticket
from data.services.abuse import limited, proxy_reports_today
from data.services.directory import find_household, household_address, residents_of
from data.services.tickets import create_ticket
from handlers.base import Result, Turn, ask, done, handler
from handlers.help import menu_reply
from handlers.menus import CLARIFY_NEITHER, REPORT_CONFIRM, REPORT_CONFIRM_KEYPAD, REPORT_FIX


def item_names(turn: Turn, item_code: str) -> dict[str, str]:
    item = turn.svc.catalog.item(item_code)
    return {"item": item.name, "category": turn.svc.catalog.category(item.category).name}


def pick_item(turn: Turn) -> str | None:
    return turn.svc.catalog.place(turn.parse.item, turn.parse.category)


def about_resident(turn: Turn, household: Household, on_behalf: str | None) -> Resident | None:
    """Whom a report is about: the reporter at home, else the named (or eldest) resident there."""
    if turn.actor.resident_id and turn.actor.household_id == household.id and not on_behalf:
        return turn.svc.session.get(Resident, turn.actor.resident_id)
    people = residents_of(turn.svc, household.id)
    if on_behalf:
        named = [r for r in people if r.name and r.name[0] == on_behalf[0]]
        if named:
            return named[0]
    return min(people, key=lambda r: r.birth_year or 9999) if people else None


def confirm(turn: Turn, slots: dict[str, Any], address: str) -> Result:
    """Read the request back and ask 1 对 2 不对."""
    params = {**item_names(turn, slots["item"]), "address": address}
    replies = []
    conf = turn.inbound.asr_confidence
    if conf is not None and conf < turn.options.asr_min_confidence:
        replies.append(Reply("report.confirm_heard", {"text": slots.get("description", "")}))
    options = REPORT_CONFIRM_KEYPAD if turn.inbound.keypad else REPORT_CONFIRM
    if slots.get("on_behalf"):
        replies.append(Reply("report.confirm_for", {**params, "name": slots["on_behalf"]}, options))
    else:
        replies.append(Reply("report.confirm", params, options))
    slots.pop("prompt", None)
    slots["retries"] = 0
    return ask(replies, State.REPORT_CONFIRM, **slots)


def resolve_household(turn: Turn, slots: dict[str, Any]) -> tuple[int, str] | None:
    """(household id, address) the report is about: an address said in the message, the one
    already chosen, or the reporter's home."""
    addr = turn.parse.entities.address
    if addr is not None and addr.building and addr.room:
        hh = find_household(turn.svc, addr.building, addr.unit, addr.room)
        return (hh.id, hh.address) if hh else None
    for household_id in (slots.get("household_id"), turn.actor.household_id):
        if household_id:
            address = household_address(turn.svc, household_id)
            if address is not None:
                return household_id, address
    return None


@handler("report.start")
def start(turn: Turn) -> Result:
    item = pick_item(turn)
    slots: dict[str, Any] = {"description": turn.text[:500], "on_behalf": turn.parse.entities.on_behalf}
    if item is None:
        return ask([Reply("report.ask_description")], State.REPORT_DESCRIPTION, **slots)
    slots["item"] = item
    addr = turn.parse.entities.address
    hh = resolve_household(turn, slots)
    if hh is None:
        key = "report.address_not_found" if addr is not None else "report.ask_address"
        return ask([Reply(key)], State.REPORT_ADDRESS, **slots)
    slots["household_id"], address = hh
    return confirm(turn, slots, address)


@handler("report.ask")
def ask_description_fresh(turn: Turn) -> Result:
    return ask([Reply("report.ask_description")], State.REPORT_DESCRIPTION)


@handler("report.fix")
def fix(turn: Turn) -> Result:
    return ask([Reply("report.fix", choices=REPORT_FIX)], State.REPORT_FIX, **_keep(turn))


@handler("report.ask_address")
def ask_address(turn: Turn) -> Result:
    return ask([Reply("report.ask_address")], State.REPORT_ADDRESS, **_keep(turn))


@handler("report.ask_description", "report.redo")
def ask_description(turn: Turn) -> Result:
    return ask([Reply("report.ask_description")], State.REPORT_DESCRIPTION, **_keep(turn))


@handler("report.address_given")
def address_given(turn: Turn) -> Result:
    slots = _keep(turn)
    addr = turn.parse.entities.address
    hh = find_household(turn.svc, addr.building, addr.unit, addr.room) if addr else None
    if hh is None:
        retries = turn.state.slots.get("retries", 0)
        if retries >= 1:
            return done(Reply("help.not_understood_again"), menu_reply(turn))
        return ask(
            [Reply("report.address_not_found")], State.REPORT_ADDRESS, **{**slots, "retries": retries + 1}
        )
    slots["household_id"] = hh.id
    if "item" not in slots:
        return ask([Reply("report.ask_description")], State.REPORT_DESCRIPTION, **slots)
    return confirm(turn, slots, hh.address)


@handler("report.description_given")
def description_given(turn: Turn) -> Result:
    slots = _keep(turn)
    item = pick_item(turn)
    if item is None:
        retries = turn.state.slots.get("retries", 0)
        if retries >= 1:
            return done(Reply("help.not_understood_again"), menu_reply(turn))
        return ask(
            [Reply("help.not_understood"), Reply("report.ask_description")],
            State.REPORT_DESCRIPTION,
            **{**slots, "retries": retries + 1},
        )
    slots.update(item=item, description=turn.text[:500])
    hh = resolve_household(turn, slots)
    if hh is None:
        return ask([Reply("report.ask_address")], State.REPORT_ADDRESS, **slots)
    slots["household_id"], address = hh
    return confirm(turn, slots, address)


@handler("report.clarify")
def clarify(turn: Turn) -> Result:
    items: list[str] = []
    for alt in turn.parse.alternatives:
        if alt.intent == "report" and alt.item and alt.item not in items:
            items.append(alt.item)
    opts = [
        Choice(str(i + 1), text=turn.svc.catalog.item(code).name, action="report.choose", arg=code)
        for i, code in enumerate(items[:2])
    ]
    return ask(
        [Reply("report.clarify", choices=(*opts, CLARIFY_NEITHER))],
        State.REPORT_CLARIFY,
        description=turn.text[:500],
        on_behalf=turn.parse.entities.on_behalf,
    )


@handler("report.choose")
def choose(turn: Turn) -> Result:
    slots = _keep(turn)
    slots.pop("options", None)  # stored by earlier versions
    slots["item"] = turn.slots["arg"]
    hh = resolve_household(turn, slots)
    if hh is None:
        return ask([Reply("report.ask_address")], State.REPORT_ADDRESS, **slots)
    slots["household_id"], address = hh
    return confirm(turn, slots, address)


@handler("report.drop")
def drop(turn: Turn) -> Result:
    return done(Reply("report.dropped"), menu_reply(turn))


@handler("report.commit")
def commit(turn: Turn) -> Result:
    """File the ticket. The number is only told once the ticket exists in this transaction."""
    slots = turn.state.slots
    svc = turn.svc
    if "item" not in slots or "household_id" not in slots:
        return done(Reply("help.not_understood"), menu_reply(turn))
    existing = _recent_duplicate(turn, slots["household_id"], slots["item"])
    if existing is not None:
        return done(Reply("report.duplicate_open", {"ticket_no": existing}))
    hh = svc.session.get(Household, slots["household_id"])
    if hh is None:
        return done(Reply("help.not_understood"), menu_reply(turn))
    for_others = not turn.actor.is_staff and turn.actor.household_id != hh.id
    if for_others and proxy_reports_today(svc, turn.actor) >= svc.limits.proxy_reports_per_day:
        limited(svc, turn.actor, "proxy reports")
        return done(Reply("guard.too_many_proxy"))
    about = about_resident(turn, hh, slots.get("on_behalf"))
    ticket = create_ticket(
        svc,
        turn.actor,
        item_code=slots["item"],
        description=slots.get("description", ""),
        household=hh,
        about_resident_id=about.id if about else None,
        # A resident reporting for another household: the leader confirms it (a neighbour may be
        # right, or may be filing in someone else's name).
        needs_verification=turn.options.unverified_caller or for_others,
    )
    hours = (
        int(round((ticket.accept_due_at - ticket.created_at).total_seconds() / 3600))
        if ticket.accept_due_at
        else 24
    )
    params = {"ticket_no": ticket.public_no, "assignee": f"@tier.{ticket.tier}", "hours": str(hours)}
    replies = [Reply("report.created", params)]
    if ticket.needs_verification:
        replies.append(Reply("guard.proxy_held" if for_others else "report.unknown_caller_flag"))
    return done(*replies)


# Prebuilt: on this path building the statement cost more than running it.
_DUPLICATE = Prepared(
    select(Ticket.public_no)
    .where(
        Ticket.household_id == bindparam("household_id"),
        Ticket.item == bindparam("item"),
        Ticket.status.in_([literal_column(f"'{status}'") for status in workflow.ACTIVE]),
        Ticket.created_at >= bindparam("since"),
    )
    .limit(1)
)


def _recent_duplicate(turn: Turn, household_id: int, item: str) -> str | None:
    """The number of an active ticket for the same thing at the same household in the last 24 h."""
    since = turn.svc.clock.now() - timedelta(hours=24)
    params = {"household_id": household_id, "item": item, "since": since}
    row = _DUPLICATE.run(turn.svc.session.connection(), params).fetchone()
    return row[0] if row else None


def _keep(turn: Turn) -> dict[str, Any]:
    slots = dict(turn.state.slots)
    slots.pop("prompt", None)
    slots["retries"] = 0
    return slots
