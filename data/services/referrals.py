"""Referral (转介) of a ticket to a service resource, and the provider's steps on it.

A resource acts through a provider account (a `Staff` row with role `provider`, bound to channels by
an invitation code like any role holder). A provider sees and acts on only the tickets referred to it,
and learns only the address and the contact number the job needs. Deadlines keep running: a provider
that does not accept in time is escalated over like anyone else.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.conversation import Actor
from core.errors import NotFoundError, PermissionDenied
from data import workflow
from data.models import Household, Referral, Resident, Staff, Ticket
from data.resources import Resource
from data.services import ServiceContext
from data.services.alerts import ACCEPT_CHOICE, suggestions, task_params
from data.services.handling import ROLE_TIER, ask_rating, audit, require_manage, tell_residents, transition
from data.services.outbox import notify
from data.services.tickets import add_event, route, set_due

REFERRED, ACCEPTED, RESOLVED, RETURNED = "referred", "accepted", "resolved", "returned"
LIVE = (REFERRED, ACCEPTED)  # the provider still has work to do


def provider_for(ctx: ServiceContext, resource: Resource, community_id: int) -> Staff:
    """The provider account of a resource in a community, created the first time it is needed."""
    staff = ctx.session.scalar(
        select(Staff).where(
            Staff.role == "provider", Staff.resource_code == resource.code, Staff.community_id == community_id
        )
    )
    if staff is None:
        staff = Staff(
            community_id=community_id,
            role="provider",
            name=resource.name[:50],
            phone=resource.phone,
            resource_code=resource.code,
        )
        ctx.session.add(staff)
        ctx.session.flush()
    return staff


def ensure_providers(ctx: ServiceContext, community_id: int) -> list[Staff]:
    """A provider account for every resource of the list (so invitation codes can be issued to them)."""
    return [provider_for(ctx, r, community_id) for r in ctx.resources.resources]


def live_referral(ctx: ServiceContext, ticket: Ticket) -> Referral | None:
    return ctx.session.scalar(
        select(Referral)
        .where(Referral.ticket_id == ticket.id, Referral.status.in_(LIVE))
        .order_by(Referral.id.desc())
        .limit(1)
    )


class AlreadyReferred(PermissionDenied):
    """The ticket is with a provider already (it must be returned before another referral)."""


def refer(ctx: ServiceContext, actor: Actor, ticket: Ticket, choice: str) -> tuple[Referral, Resource]:
    """Refer a ticket to the resource numbered `choice` in its suggestions (or named by its code)."""
    require_manage(ctx, actor, ticket)
    if ticket.status not in workflow.ACTIVE:
        raise workflow.TransitionError(ticket.status, "referred")
    found = suggestions(ctx, ticket)
    resource = None
    if choice.isdigit() and 1 <= int(choice) <= len(found):
        resource = found[int(choice) - 1]
    elif ctx.resources.get(choice) is not None:
        resource = ctx.resources.get(choice)
    if resource is None:
        raise NotFoundError(choice)
    if live_referral(ctx, ticket) is not None:
        raise AlreadyReferred(ticket.public_no)
    provider = provider_for(ctx, resource, ticket.community_id)
    now = ctx.clock.now()
    due = now + timedelta(hours=ctx.deadlines.referral_accept_hours)
    referral = Referral(
        ticket_id=ticket.id,
        resource_code=resource.code,
        provider_id=provider.id,
        referred_by=actor.staff_id,
        status=REFERRED,
        referred_at=now,
        accept_due_at=due,
    )
    ctx.session.add(referral)
    ticket.assignee_id = provider.id
    ticket.updated_at = now
    if ticket.status in (workflow.SUBMITTED, workflow.REOPENED):
        ticket.accept_due_at = due  # the provider's acceptance is what is awaited now
    note = ctx.words("note.referred", name=resource.name)
    event_id = add_event(ctx, ticket, "referred", actor, from_status=ticket.status, note=note).id
    notify(
        ctx,
        kind="new_task",
        key="provider.new_task",
        params=provider_params(ctx, ticket),
        staff_id=provider.id,
        ticket=ticket,
        event_id=event_id,
        choices=ACCEPT_CHOICE,
    )
    extra = {"resource": resource.name, "hours": _hours(ctx.deadlines.referral_accept_hours)}
    tell_residents(ctx, ticket, "referred", "notify.referred", event_id, extra)
    return referral, resource


def provider_params(ctx: ServiceContext, ticket: Ticket) -> dict[str, str]:
    """What a provider learns about a ticket: the job, where, and a number to call. No names, no
    household details beyond the address."""
    base = task_params(ctx, ticket)
    hh = ctx.session.get(Household, ticket.household_id) if ticket.household_id else None
    person = None
    for rid in (ticket.about_resident_id, ticket.reporter_resident_id):
        if rid:
            person = ctx.session.get(Resident, rid)
            if person is not None and person.phone:
                break
    return {
        "ticket_no": ticket.public_no,
        "item": base["item"],
        "address": hh.address if hh else "",
        "phone": person.phone if person and person.phone else "",
        "description": base["description"],
    }


def provider_tickets(ctx: ServiceContext, actor: Actor) -> list[Ticket]:
    """Open tickets referred to a provider, oldest referral first."""
    return list(
        ctx.session.scalars(
            select(Ticket)
            .join(Referral, Referral.ticket_id == Ticket.id)
            .where(
                Referral.provider_id == actor.staff_id,
                Referral.status.in_(LIVE),
                Ticket.status.in_(workflow.ACTIVE),
            )
            .order_by(Referral.referred_at, Ticket.id)
        )
    )


def _mine(ctx: ServiceContext, actor: Actor, public_no: str) -> tuple[Ticket, Referral]:
    """A ticket referred to this provider, or NotFound (logged) — exactly as for a wrong number."""
    row = ctx.session.execute(
        select(Ticket, Referral)
        .join(Referral, Referral.ticket_id == Ticket.id)
        .where(
            Ticket.public_no == public_no, Referral.provider_id == actor.staff_id, Referral.status.in_(LIVE)
        )
        .order_by(Referral.id.desc())
        .limit(1)
    ).first()
    if row is None:
        audit(ctx, actor, "refused", "provider: ticket not referred")
        raise NotFoundError(public_no)
    return row[0], row[1]


def provider_step(ctx: ServiceContext, actor: Actor, public_no: str, op: str, note: str = "") -> Ticket:
    """接单 / 处理中 / 办结 / 退回 by a provider, on a ticket referred to it."""
    if actor.role != "provider":
        raise PermissionDenied(public_no)
    ticket, referral = _mine(ctx, actor, public_no)
    resource = ctx.resources.get(referral.resource_code)
    name = resource.name if resource else actor.name
    now = ctx.clock.now()
    if op == "accept":
        if referral.status != REFERRED:
            raise workflow.TransitionError(ticket.status, workflow.ACCEPTED)
        referral.status, referral.accepted_at = ACCEPTED, now
        event_id = _step(ctx, actor, ticket, workflow.ACCEPTED, note, "provider_accepted")
        come = now + timedelta(hours=resource.respond_hours if resource else 24)
        when = note or ctx.words("notify.provider_when", when=ctx.when(come))
        extra = {"resource": name, "when": when, "phone": resource.phone if resource else ""}
        tell_residents(ctx, ticket, "accepted", "notify.provider_accepted", event_id, extra)
    elif op == "in_progress":
        _step(ctx, actor, ticket, workflow.IN_PROGRESS, note, "in_progress")
    elif op == "resolve":
        event_id = transition(ctx, actor, ticket, workflow.RESOLVED, note)
        referral.status, referral.resolved_at = RESOLVED, now
        referral.accepted_at = referral.accepted_at or now
        tell_residents(ctx, ticket, "resolved", "notify.resolved", event_id, {"note": note})
        ask_rating(ctx, ticket, event_id)
    elif op == "return":
        give_back(ctx, actor, ticket, referral, name, note)
    else:
        raise PermissionDenied(public_no)
    return ticket


def _step(ctx: ServiceContext, actor: Actor, ticket: Ticket, wanted: str, note: str, kind: str) -> int:
    """The ticket moves on when it can; a step already taken by the leader is recorded as an event."""
    if workflow.can(ticket.status, wanted):
        return transition(ctx, actor, ticket, wanted, note)
    if ticket.status not in workflow.ACTIVE:
        raise workflow.TransitionError(ticket.status, wanted)
    return add_event(ctx, ticket, kind, actor, from_status=ticket.status, note=note).id


def give_back(
    ctx: ServiceContext, actor: Actor, ticket: Ticket, referral: Referral, name: str, reason: str
) -> None:
    """退回: the ticket goes back to whoever referred it (else the tier's own handler), with the reason."""
    now = ctx.clock.now()
    referral.status, referral.returned_at, referral.reason = RETURNED, now, reason[:500]
    back = ctx.session.get(Staff, referral.referred_by) if referral.referred_by else None
    if back is None or not back.active:
        _, back = route(ctx, ticket.tier, ticket.unit_id, ticket.grid_id, ticket.community_id)
    ticket.assignee_id = back.id if back else None
    if back is not None:
        ticket.tier = max(ticket.tier, ROLE_TIER.get(back.role, ticket.tier))
    ticket.updated_at = now
    set_due(ctx, ticket)
    note = ctx.words("note.returned", name=name, reason=reason)
    event_id = add_event(ctx, ticket, "returned", actor, from_status=ticket.status, note=note).id
    if back is not None:
        params = {**task_params(ctx, ticket), "resource": name, "reason": reason}
        notify(
            ctx,
            kind="returned",
            key="refer.returned",
            params=params,
            staff_id=back.id,
            ticket=ticket,
            event_id=event_id,
        )
    tell_residents(
        ctx, ticket, "returned", "notify.referral_returned", event_id, {"tier": f"@tier.{ticket.tier}"}
    )


def _hours(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
