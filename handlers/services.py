"""A resident asks for a service — 「有没有送饭的」「哪里可以托管娃儿」: the first few resources of the
list that fit (hours, how many it takes, cost, how to book), and an offer to register the need so the
leader can refer it."""

from __future__ import annotations

from core.conversation import State
from core.messages import Reply
from data.resources import Resource
from handlers.base import REGISTRY, Result, Turn, ask, handler
from handlers.menus import SERVICE_OFFER
from handlers.report import confirm, resolve_household

SHOWN = 3  # resources read out in one answer (elders listen to it)


@handler("service.ask")
def service_ask(turn: Turn) -> Result:
    """Answer from the resource list; when nothing in it fits, do what the message would otherwise do."""
    svc, parse = turn.svc, turn.parse
    item = parse.item if parse.intent == "report" else None
    category_items: tuple[str, ...] = ()
    if parse.intent == "report" and parse.category and not item:
        category_items = tuple(it.code for it in svc.catalog.category(parse.category).items)
    found = svc.resources.find(parse.normalized, item, category_items)
    if not found:
        return REGISTRY[turn.slots.get("fallback") or "help.not_understood"](turn)
    replies = [Reply("service.header", {"count": str(len(found))})]
    replies += [Reply("service.line", _params(turn, r)) for r in found[:SHOWN]]
    item = item or svc.catalog.place(None, parse.category) or found[0].serves[0]
    replies.append(Reply("service.offer", choices=SERVICE_OFFER))
    return ask(replies, State.SERVICE_OFFER, item=item, description=turn.text[:500])


def _params(turn: Turn, r: Resource) -> dict[str, str]:
    kind = turn.svc.strings.text(f"resource_kind.{r.kind}")
    return {
        "name": r.name,
        "kind": kind,
        "hours": r.hours,
        "capacity": r.capacity,
        "cost": r.cost,
        "book": r.book,
        "phone": r.phone,
    }


@handler("service.request")
def service_request(turn: Turn) -> Result:
    """1 帮我登记: the question becomes a request the leader can refer (read back, then confirmed)."""
    slots = {k: v for k, v in turn.state.slots.items() if k in ("item", "description")}
    hh = resolve_household(turn, slots)
    if hh is None:
        return ask([Reply("report.ask_address")], State.REPORT_ADDRESS, **slots)
    slots["household_id"], address = hh
    return confirm(turn, slots, address)
