"""SQLAlchemy 2.0 typed models. Times are naive UTC everywhere (the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Community(Base):
    __tablename__ = "communities"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Grid(Base):
    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Unit(Base):
    """联户单元: 10-15 households with one volunteer leader."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    grid: Mapped[Grid] = relationship()


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("building", "entrance", "room", name="uq_household_address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    building: Mapped[str] = mapped_column(String(16))  # 栋
    entrance: Mapped[str] = mapped_column(String(16), default="")  # 单元
    room: Mapped[str] = mapped_column(String(16))  # 室
    unit: Mapped[Unit] = relationship()

    @property
    def address(self) -> str:
        return format_address(self.building, self.entrance, self.room)


def format_address(building: str, entrance: str | None, room: str) -> str:
    middle = f"{entrance} 单元 " if entrance else ""
    return f"{building} 栋 {middle}{room}"


class Resident(Base):
    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    lives_alone: Mapped[bool] = mapped_column(Boolean, default=False)
    prefers_voice: Mapped[bool] = mapped_column(Boolean, default=False)
    no_notice_calls: Mapped[bool] = mapped_column(Boolean, default=False)  # 「不要再打了」 (kept)
    household: Mapped[Household] = relationship()


class Staff(Base):
    """A role holder: unit leader 联户长, grid worker 网格员, community staff, duty contact, or a service
    provider (a resource of data/catalog/resources.yaml, acting on the tickets referred to it)."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # leader | grid | staff | duty
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id; workbench sign-in
    resource_code: Mapped[str | None] = mapped_column(String(48))  # role provider: its resources.yaml code


class Identity(Base):
    """A channel account (channel + external id) bound to one resident or staff member."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_identity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime)
    pending_household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    pending_name: Mapped[str | None] = mapped_column(String(50))
    pending_code: Mapped[str | None] = mapped_column(String(16), unique=True)


class WebToken(Base):
    __tablename__ = "web_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Invitation(Base):
    """A binding code a leader hands to a resident (or their family)."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_due", "status", "accept_due_at"),
        Index("ix_tickets_urgent_ack", "urgent", "acknowledged_at"),  # emergencies nobody acknowledged
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    public_no: Mapped[str] = mapped_column(String(12), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    item: Mapped[str] = mapped_column(String(48), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)
    tier: Mapped[int] = mapped_column(Integer, default=1)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    reporter_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    reporter_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    about_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    reporter_identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    source_channel: Mapped[str] = mapped_column(String(16))
    needs_verification: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    accept_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolve_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_alert_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_urged_at: Mapped[datetime | None] = mapped_column(DateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    # request (a report), message (留言: words the machine could not place, for a person to read)
    kind: Mapped[str] = mapped_column(String(16), default="request", server_default="request")


class TicketEvent(Base):
    """Append-only history of a ticket."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(24))
    actor_kind: Mapped[str] = mapped_column(String(16))  # resident | staff | system
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(50), default="")
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    tier: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")


class Rating(Base):
    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    score: Mapped[int] = mapped_column(Integer)  # 1 satisfied, 2 basically, 3 not satisfied
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Conversation(Base):
    """Dialogue state of one channel identity, so a restart loses nothing."""

    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), unique=True)
    state: Mapped[str] = mapped_column(String(32), default="idle")
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ProcessedMessage(Base):
    """One row per handled inbound message: the dedupe key and the answer it got."""

    __tablename__ = "processed_messages"
    __table_args__ = (UniqueConstraint("identity_id", "msg_id", name="uq_processed_msg"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"))
    msg_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    replies: Mapped[list[Any]] = mapped_column(JSON, default=list)


class OutboxMessage(Base):
    """A notification to one identity, written in the transaction that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    text_key: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    choices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")


class PushedMessage(Base):
    """Messages pushed to an identity's inbox (web page, console, demo identities)."""

    __tablename__ = "pushed_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    ticket_no: Mapped[str | None] = mapped_column(String(12))


class Alert(Base):
    """Alerts raised once (cluster warnings), keyed so they are not repeated."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(Integer)  # staff id


class AuditLog(Base):
    """Refusals and other security-relevant events (no personal data in `detail`)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    identity_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class RiskCheck(Base):
    """A safety question asked because a message may mean someone is in danger, and its answer."""

    __tablename__ = "risk_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    asked_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    cues: Mapped[str] = mapped_column(String(200), default="")  # what raised it ("medical:喘不上气")
    # asked | confirmed | declined | no_answer (silence on the phone counts as yes) | unclear (asked twice)
    outcome: Mapped[str] = mapped_column(String(16), default="asked")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))


class SigninAttempt(Base):
    """One workbench sign-in attempt: rate limits and lockout are counted from these rows, so they
    hold across server processes. Keys are hashes (no phone numbers or addresses stored)."""

    __tablename__ = "signin_attempts"
    __table_args__ = (
        Index("ix_signin_attempts_login", "login_key", "at"),
        Index("ix_signin_attempts_client", "client_key", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    login_key: Mapped[str] = mapped_column(String(64))
    client_key: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean, default=False)


class StaffSession(Base):
    """A signed-in workbench session (server-side; the cookie holds only a random token)."""

    __tablename__ = "staff_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SigninLink(Base):
    """A one-time sign-in link (python -m bot staff-link IDENTITY)."""

    __tablename__ = "signin_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class SeenRequest(Base):
    """A signed webhook request already taken (WeChat's timestamp + nonce), kept while it could still
    be fresh: a replay inside the freshness window finds it. Shared by every server process."""

    __tablename__ = "seen_requests"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the body it came with
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class ApiKey(Base):
    """An Open311 integrator (a city platform, the 12345 hotline...): a hashed key, its scopes, its
    per-minute budget and optionally a webhook. `identity_id` is the integrator as a reporter."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the key's first characters, to recognize it in a list
    scopes: Mapped[str] = mapped_column(String(64), default="read")  # comma list: read, write, private
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=60)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    window_start: Mapped[datetime | None] = mapped_column(DateTime)  # fixed one-minute rate window
    window_count: Mapped[int] = mapped_column(Integer, default=0)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(64))  # HMAC key; shown once at registration


class Open311Request(Base):
    """What an integrator posted beside the ticket it became (location, media, whose key)."""

    __tablename__ = "open311_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    address_string: Mapped[str] = mapped_column(String(300), default="")
    media_url: Mapped[str] = mapped_column(String(500), default="")
    resident_matched: Mapped[bool] = mapped_column(Boolean, default=False)


class Referral(Base):
    """A ticket referred (转介) to a service resource; the provider accepts, resolves or returns it."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_provider_status", "provider_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(48), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    referred_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str] = mapped_column(String(16))  # referred | accepted | resolved | returned
    referred_at: Mapped[datetime] = mapped_column(DateTime)
    accept_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    rating: Mapped[int | None] = mapped_column(Integer)  # the resident's rating of this service


class Activity(Base):
    """A unit or community activity (活动) residents in its scope sign up for."""

    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_no: Mapped[str] = mapped_column(String(12), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    title: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    place: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(16))  # unit | grid | community
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")


class ActivitySignup(Base):
    """One resident's place at an activity: signed (has a place), waitlist, or cancelled."""

    __tablename__ = "activity_signups"
    __table_args__ = (UniqueConstraint("activity_id", "resident_id", name="uq_activity_signup"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    attended: Mapped[bool | None] = mapped_column(Boolean)


class Notice(Base):
    """A notice (通知) or consultation (议事协商, with options) sent to a scope of households."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # notice | consult
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    sender_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    sender_identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    text: Mapped[str] = mapped_column(Text)
    scope_kind: Mapped[str] = mapped_column(String(12))  # unit | grid | building | community
    scope_ref: Mapped[str] = mapped_column(String(32))  # unit/grid/community id, or the building
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)  # consultation option labels
    per_resident: Mapped[bool] = mapped_column(Boolean, default=False)  # one vote per resident
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The workbench draft this was sent from: a second 确认发送 of the same draft finds it, sends nothing.
    draft_key: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)


class NoticeReceipt(Base):
    """Where one notice stands with one household: channels, acknowledgement, phone calls."""

    __tablename__ = "notice_receipts"
    __table_args__ = (
        UniqueConstraint("notice_id", "household_id", name="uq_notice_household"),
        Index("ix_notice_calls_due", "call_state", "call_due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    channels: Mapped[int] = mapped_column(Integer, default=0)  # channel messages queued
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_via: Mapped[str] = mapped_column(String(16), default="")
    # "" (no call) | due | dialing | answered | failed (attempts used up) | cancelled
    call_state: Mapped[str] = mapped_column(String(12), default="")
    call_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    call_attempts: Mapped[int] = mapped_column(Integer, default=0)
    called_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    call_result: Mapped[str] = mapped_column(
        String(16), default=""
    )  # last: answered | busy | no_answer | error


class NoticeVote(Base):
    """One vote in a consultation: per household (voter "h<id>") or per resident ("r<id>")."""

    __tablename__ = "notice_votes"
    __table_args__ = (UniqueConstraint("notice_id", "voter", name="uq_notice_voter"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    voter: Mapped[str] = mapped_column(String(16))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    choice: Mapped[str] = mapped_column(String(4))
    via: Mapped[str] = mapped_column(String(16), default="")
    at: Mapped[datetime] = mapped_column(DateTime)
