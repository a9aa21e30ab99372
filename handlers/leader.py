"""Leaders, grid workers and staff work their tasks by chat: 我的任务 · 接单 · 处理中 · 办结 · 上报."""

from __future__ import annotations

from core.conversation import State
from core.errors import NotFoundError, PermissionDenied
from core.messages import Reply
from data import workflow
from data.services.alerts import task_params
from data.services.handling import audit, escalate, staff_step
from data.services.visibility import get_visible, is_overdue, tasks_for
from handlers.base import Result, Turn, ask, done, handler
from handlers.binding import approve_binding
from handlers.menus import TASK
from handlers.picking import MAX_CHOICES, ticket_choices

STEPS = {"accept": workflow.ACCEPTED, "in_progress": workflow.IN_PROGRESS, "resolve": workflow.RESOLVED}
REPLY = {"accept": "leader.accepted", "in_progress": "leader.in_progress", "resolve": "leader.resolved"}


@handler("leader.tasks")
def tasks(turn: Turn) -> Result:
    if not turn.actor.is_staff:
        audit(turn.svc, turn.actor, "refused", "tasks")
        return done(Reply("error.permission"))
    rows = tasks_for(turn.svc, turn.actor)
    if not rows:
        return done(Reply("leader.tasks_none"))
    now = turn.svc.clock.now()
    replies = [Reply("leader.tasks_header", {"count": str(len(rows))})]
    for t in rows[:MAX_CHOICES]:
        p = task_params(turn.svc, t)
        marks = ("_urgent" if t.urgent else "") + ("_overdue" if is_overdue(t, now) else "")
        key = f"leader.task_line{marks}"
        replies.append(Reply(key, {**p, "status": f"@status_word.{t.status}"}))
    replies.append(Reply("leader.pick", choices=ticket_choices(turn, rows)))
    return ask(replies, State.PICK_TICKET, purpose="leader")


@handler("leader.ticket")
def task_menu(turn: Turn) -> Result:
    no = turn.slots["ticket_no"]
    return ask([Reply("leader.task_menu", {"ticket_no": no}, TASK)], State.LEADER_TASK, ticket_no=no)


@handler("leader.step")
def step(turn: Turn) -> Result:
    """A step picked from a task's menu (1 接单 2 处理中 3 办结 4 上报)."""
    turn.slots = {"op": turn.slots["arg"], "ticket_no": turn.state.slots.get("ticket_no"), "note": ""}
    return command(turn)


@handler("leader.reason_given")
def reason_given(turn: Turn) -> Result:
    """The reason asked for after 上报 N without one."""
    turn.slots = {"op": "escalate", "ticket_no": turn.state.slots.get("ticket_no"), "note": turn.text}
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
    if not no:
        return done(Reply("leader.ask_ticket"))
    try:
        ticket = get_visible(turn.svc, turn.actor, no)
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
