"""One matter as the workbench shows it (history, who was told, ratings, recordings) and the steps
staff take on it. Every step is the chat's own service (handling.py), audited once more here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from core.conversation import Actor
from core.errors import LianhuError, NotFoundError, PermissionDenied
from data import workflow
from data.models import (
    Grid,
    Household,
    Identity,
    OutboxMessage,
    Rating,
    Resident,
    Staff,
    Ticket,
    TicketEvent,
    Unit,
)
from data.services import ServiceContext
from data.services.alerts import suggestions
from data.services.handling import (
    ROLE_TIER,
    add_note,
    assign,
    audit,
    can_manage,
    close,
    escalate,
    may_assign,
    reopen,
    staff_step,
    verify,
)
from data.services.phone import CALLBACK_EVENT
from data.services.referrals import live_referral, refer
from data.services.visibility import get_visible

RECORDING_PREFIX = "recording: "
ACTIONS = (
    "accept",
    "in_progress",
    "resolve",
    "escalate",
    "assign",
    "refer",
    "note",
    "close",
    "reopen",
    "verify",
)
NEEDS_NOTE = ("resolve", "escalate", "reopen", "note")


class NoteRequired(LianhuError):
    """This step needs a note (a resolution, a reason)."""


@dataclass(frozen=True)
class Notice:
    at: datetime
    to: str
    role: str
    channel: str
    kind: str
    status: str
    sent_at: datetime | None


@dataclass
class Matter:
    ticket: Ticket
    item: str
    category: str
    unit: str
    grid: str
    address: str
    about: Resident | None
    assignee: str
    assignee_role: str
    events: list[TicketEvent]
    notices: list[Notice]
    ratings: list[Rating]
    recordings: list[int]  # event ids whose recording can be played
    manageable: bool
    allowed: list[str] = field(default_factory=list)
    assignees: list[tuple[int, str]] = field(default_factory=list)
    resources: list[tuple[str, str]] = field(default_factory=list)  # (code, label) it may be referred to


def matter(ctx: ServiceContext, actor: Actor, public_no: str) -> Matter:
    """A matter the actor may see (NotFoundError otherwise, audited as in the chat)."""
    t = get_visible(ctx, actor, public_no)
    s = ctx.session
    unit = s.get(Unit, t.unit_id) if t.unit_id else None
    grid = s.get(Grid, t.grid_id) if t.grid_id else None
    hh = s.get(Household, t.household_id) if t.household_id else None
    about_id = t.about_resident_id or t.reporter_resident_id
    assignee = s.get(Staff, t.assignee_id) if t.assignee_id else None
    events = list(
        s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id))
    )
    item = ctx.catalog.item(t.item)
    m = Matter(
        ticket=t,
        item=item.name,
        category=ctx.catalog.category(item.category).name,
        unit=unit.name if unit else "",
        grid=grid.name if grid else "",
        address=hh.address if hh else "",
        about=s.get(Resident, about_id) if about_id else None,
        assignee=assignee.name if assignee else "",
        assignee_role=assignee.role if assignee else "",
        events=events,
        notices=notices(ctx, t.id),
        ratings=list(s.scalars(select(Rating).where(Rating.ticket_id == t.id).order_by(Rating.id))),
        recordings=[e.id for e in events if e.kind == CALLBACK_EVENT and e.note.startswith(RECORDING_PREFIX)],
        manageable=can_manage(actor, t),
    )
    if m.manageable:
        m.allowed = allowed_actions(actor, t)
        if "assign" in m.allowed:
            m.assignees = [(p.id, f"{p.name}（{p.role}）") for p in assignable(ctx, actor)]
        if t.status in workflow.ACTIVE and live_referral(ctx, t) is None:
            m.resources = [
                (r.code, f"{r.name}（{ctx.strings.text('resource_kind.' + r.kind)}，{r.hours}）")
                for r in suggestions(ctx, t)
            ]
            if m.resources:
                m.allowed.append("refer")
    return m


def allowed_actions(actor: Actor, t: Ticket) -> list[str]:
    """The steps the matter's status allows and the actor's role may take."""
    out = []
    for op, wanted in (("accept", workflow.ACCEPTED), ("in_progress", workflow.IN_PROGRESS)):
        if workflow.can(t.status, wanted):
            out.append(op)
    if workflow.can(t.status, workflow.RESOLVED):
        out.append("resolve")
    if t.status in workflow.ACTIVE and t.tier < 3:
        out.append("escalate")
    if t.status in workflow.ACTIVE and ROLE_TIER.get(actor.role, 0) >= 2:
        out.append("assign")
    out.append("note")
    if t.status == workflow.RESOLVED:
        out.append("close")
    if workflow.can(t.status, workflow.REOPENED):
        out.append("reopen")
    if t.needs_verification:
        out.append("verify")
    return out


def assignable(ctx: ServiceContext, actor: Actor) -> list[Staff]:
    people = ctx.session.scalars(
        select(Staff).where(Staff.active.is_(True), Staff.role.in_(("leader", "grid"))).order_by(Staff.id)
    )
    return [p for p in people if may_assign(actor, p)]


def notices(ctx: ServiceContext, ticket_id: int) -> list[Notice]:
    """Everyone the matter's notifications went to, when, and whether they were delivered."""
    rows = ctx.session.execute(
        select(OutboxMessage, Identity, Staff.name, Staff.role, Resident.name)
        .join(Identity, Identity.id == OutboxMessage.identity_id)
        .outerjoin(Staff, Staff.id == Identity.staff_id)
        .outerjoin(Resident, Resident.id == Identity.resident_id)
        .where(OutboxMessage.ticket_id == ticket_id)
        .order_by(OutboxMessage.id)
    ).all()
    out = []
    for msg, ident, staff_name, staff_role, resident_name in rows:
        out.append(
            Notice(
                at=msg.created_at,
                to=staff_name or resident_name or ident.external_id[-4:],
                role=staff_role or ("resident" if resident_name else ""),
                channel=ident.channel,
                kind=msg.kind,
                status=msg.status,
                sent_at=msg.sent_at,
            )
        )
    return out


def act(
    ctx: ServiceContext,
    actor: Actor,
    public_no: str,
    op: str,
    note: str = "",
    staff_id: int | None = None,
    resource: str = "",
) -> str:
    """Take one step on a matter through the chat's services; returns the step's name.

    Raises NotFoundError (not visible), PermissionDenied (not the actor's to manage), NoteRequired,
    or workflow.TransitionError (the status does not allow it)."""
    if op not in ACTIONS:
        raise workflow.TransitionError("", op)
    note = note.strip()
    if op in NEEDS_NOTE and not note:
        raise NoteRequired(op)
    t = get_visible(ctx, actor, public_no)
    if op in ("accept", "in_progress", "resolve"):
        wanted = {"accept": workflow.ACCEPTED, "in_progress": workflow.IN_PROGRESS}.get(op, workflow.RESOLVED)
        staff_step(ctx, actor, t, wanted, note)
    elif op == "escalate":
        if not escalate(ctx, actor, t, note):
            raise workflow.TransitionError(t.status, "escalated")
    elif op == "assign":
        if staff_id is None:
            raise PermissionDenied(public_no)
        assign(ctx, actor, t, staff_id)
    elif op == "refer":
        refer(ctx, actor, t, resource or "-")
    elif op == "note":
        add_note(ctx, actor, t, note)
    elif op == "close":
        close(ctx, actor, t, note)
    elif op == "reopen":
        reopen(ctx, actor, t, note)
    else:
        verify(ctx, actor, t)
    audit(ctx, actor, "workbench", f"{op} {public_no}")
    return op


def recording_path(ctx: ServiceContext, actor: Actor, public_no: str, event_id: int, root: Path) -> Path:
    """The file of a call's recorded message, when the actor may see the matter and the file is
    inside the recordings folder (the event's note is data, never trusted as a path)."""
    t = get_visible(ctx, actor, public_no)
    ev = ctx.session.scalar(
        select(TicketEvent).where(
            TicketEvent.id == event_id,
            TicketEvent.ticket_id == t.id,
            TicketEvent.kind == CALLBACK_EVENT,
        )
    )
    if ev is None or not ev.note.startswith(RECORDING_PREFIX):
        raise NotFoundError(public_no)
    path = Path(ev.note[len(RECORDING_PREFIX) :].strip()).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        raise NotFoundError(public_no)
    audit(ctx, actor, "recording_played", f"ticket {public_no}")
    return path
