"""Leaders, grid workers and staff work their tasks by chat: 我的任务 · 接单 · 处理中 · 办结 · 上报 ·
转介; a service provider works the tickets referred to it: 接单 · 处理中 · 办结 · 退回."""

from __future__ import annotations

from core.conversation import State
from core.errors import NotFoundError, PermissionDenied
from core.messages import Choice, Reply
from data import workflow
from data.services.alerts import suggestions, task_params
from data.services.handling import audit, escalate, staff_step
from data.services.referrals import AlreadyReferred, provider_step, provider_tickets, refer
from data.services.visibility import get_visible, is_overdue, tasks_for
from handlers.activities import organize
from handlers.base import Result, Turn, ask, done, handler
from handlers.binding import approve_binding
from handlers.menus import PROVIDER_TASK, TASK
from handlers.picking import MAX_CHOICES, ticket_choices

STEPS = {"accept": workflow.ACCEPTED, "in_progress": workflow.IN_PROGRESS, "resolve": workflow.RESOLVED}
REPLY = {"accept": "leader.accepted", "in_progress": "leader.in_progress", "resolve": "leader.resolved"}
PROVIDER_OPS = ("accept", "in_progress", "resolve", "return")
ACTIVITY_OPS = ("create_activity", "roster", "attend")


@handler("leader.tasks")
def tasks(turn: Turn) -> Result:
    if not turn.actor.is_staff:
        audit(turn.svc, turn.actor, "refused", "tasks")
        return done(Reply("error.permission"))
    provider = turn.actor.role == "provider"
    rows = provider_tickets(turn.svc, turn.actor) if provider else tasks_for(turn.svc, turn.actor)
    if not rows:
        return done(Reply("leader.tasks_none"))
    now = turn.svc.clock.now()
    replies = [Reply("leader.tasks_header", {"count": str(len(rows))})]
    for t in rows[:MAX_CHOICES]:
        p = task_params(turn.svc, t)
        marks = ("_urgent" if t.urgent else "") + ("_overdue" if is_overdue(t, now) else "")
        key = "provider.task_line" if provider else f"leader.task_line{marks}"
        replies.append(Reply(key, {**p, "status": f"@status_word.{t.status}"}))
    replies.append(Reply("leader.pick", choices=ticket_choices(turn, rows)))
    return ask(replies, State.PICK_TICKET, purpose="leader")


@handler("leader.ticket")
def task_menu(turn: Turn) -> Result:
    no = turn.slots["ticket_no"]
    options = PROVIDER_TASK if turn.actor.role == "provider" else TASK
    return ask([Reply("leader.task_menu", {"ticket_no": no}, options)], State.LEADER_TASK, ticket_no=no)


@handler("leader.step")
def step(turn: Turn) -> Result:
    """A step picked from a task's menu (1 接单 2 处理中 3 办结 4 上报)."""
    turn.slots = {"op": turn.slots["arg"], "ticket_no": turn.state.slots.get("ticket_no"), "note": ""}
    return command(turn)


@handler("leader.reason_given")
def reason_given(turn: Turn) -> Result:
    """The reason asked for after 上报 N (or a provider's 退回 N) without one."""
    op = turn.state.slots.get("op", "escalate")
    turn.slots = {"op": op, "ticket_no": turn.state.slots.get("ticket_no"), "note": turn.text}
    return command(turn)


@handler("leader.command")
def command(turn: Turn) -> Result:
    op, no, note = turn.slots["op"], turn.slots.get("ticket_no"), turn.slots.get("note", "")
    if not turn.actor.is_staff:
        audit(turn.svc, turn.actor, "refused", f"staff command {op}")
        return done(Reply("error.permission"))
    if op == "tasks":
        return tasks(turn)
    if op == "approve_binding":
        return approve_binding(turn, no or "")
    if op in ACTIVITY_OPS:
        return organize(turn, op, no, note)
    if not no:
        return done(Reply("leader.ask_ticket"))
    if turn.actor.role == "provider":
        return provider_command(turn, op, no, note)
    if op == "return":
        return done(Reply("error.permission"))
    try:
        ticket = get_visible(turn.svc, turn.actor, no)
        if op == "refer":
            return refer_to(turn, ticket, note)
        if op == "escalate":
            if not note:
                return ask([Reply("leader.ask_reason")], State.LEADER_REASON, ticket_no=no)
            if not escalate(turn.svc, turn.actor, ticket, note):
                return done(
                    Reply(
                        "leader.bad_transition", {"ticket_no": no, "status": f"@status_word.{ticket.status}"}
                    )
                )
            return done(Reply("leader.escalated", {"ticket_no": no, "tier": f"@tier.{ticket.tier}"}))
        staff_step(turn.svc, turn.actor, ticket, STEPS[op], note)
        return done(Reply(REPLY[op], {"ticket_no": no}))
    except NotFoundError:
        audit(turn.svc, turn.actor, "refused", f"ticket {no} not visible")
        return done(Reply("status.not_found"))
    except PermissionDenied:
        return done(Reply("leader.not_yours"))
    except workflow.TransitionError as err:
        return done(
            Reply("leader.bad_transition", {"ticket_no": no, "status": f"@status_word.{err.current}"})
        )


def provider_command(turn: Turn, op: str, no: str, note: str) -> Result:
    """A provider's step on a ticket referred to it; anything else is refused as not its own."""
    if op not in PROVIDER_OPS:
        audit(turn.svc, turn.actor, "refused", f"provider command {op}")
        return done(Reply("provider.not_allowed"))
    if op == "return" and not note:
        return ask([Reply("provider.ask_reason")], State.LEADER_REASON, ticket_no=no, op="return")
    try:
        provider_step(turn.svc, turn.actor, no, op, note)
    except NotFoundError:
        return done(Reply("status.not_found"))
    except workflow.TransitionError as err:
        return done(
            Reply("leader.bad_transition", {"ticket_no": no, "status": f"@status_word.{err.current}"})
        )
    key = {"accept": "provider.accepted", "in_progress": "provider.in_progress"}.get(op, f"provider.{op}d")
    return done(Reply("provider.returned" if op == "return" else key, {"ticket_no": no}))


def refer_to(turn: Turn, ticket, choice: str) -> Result:  # type: ignore[no-untyped-def]
    """转介 N 2: refer ticket N to the second resource its task message listed."""
    no = ticket.public_no
    if not choice:
        return refer_menu_for(turn, ticket)
    try:
        _, resource = refer(turn.svc, turn.actor, ticket, choice.strip())
    except AlreadyReferred:
        return done(Reply("refer.already", {"ticket_no": no}))
    except NotFoundError:
        return done(Reply("refer.bad_choice", {"ticket_no": no}))
    return done(Reply("refer.done", {"ticket_no": no, "resource": resource.name}))


def refer_menu_for(turn: Turn, ticket) -> Result:  # type: ignore[no-untyped-def]
    found = suggestions(turn.svc, ticket)
    no = ticket.public_no
    if not found:
        return done(Reply("refer.none", {"ticket_no": no}))
    options = tuple(
        Choice(str(i), text=r.name, action="refer.pick", arg=r.code) for i, r in enumerate(found, start=1)
    )
    return ask([Reply("refer.pick", {"ticket_no": no}, options)], State.LEADER_TASK, ticket_no=no)


@handler("refer.menu")
def refer_menu(turn: Turn) -> Result:
    """5 转介 from a task's menu: the resources that serve it, as numbered choices."""
    turn.slots = {"op": "refer", "ticket_no": turn.state.slots.get("ticket_no"), "note": ""}
    return command(turn)


@handler("refer.pick")
def refer_pick(turn: Turn) -> Result:
    turn.slots = {"op": "refer", "ticket_no": turn.state.slots.get("ticket_no"), "note": turn.slots["arg"]}
    return command(turn)
