"""Workbench sign-in: passwords (argon2id), rate limits and lockout, server-side sessions, one-time links.

Sign-in is split in two calls around the password check (`signin_check`, then `signin_finish`) so the
slow argon2 verification never runs inside a unit of work (on SQLite that holds the writer lock).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from core.conversation import Actor
from core.errors import NotFoundError
from core.settings import WorkbenchSettings
from data.models import SigninAttempt, SigninLink, Staff, StaffSession
from data.services import ServiceContext
from data.services.directory import actor_for, find_identity, get_or_create_identity, mask_phone
from data.services.handling import audit

HASHER = PasswordHasher()
MIN_PASSWORD = 8
CHANNEL = "workbench"  # the identity a staff member acts through on the workbench
_DUMMY = HASHER.hash("not-a-password")  # verified against when the phone is unknown (same timing)


@dataclass(frozen=True)
class Candidate:
    """What the password is checked against: a staff member's hash, or a dummy when nobody matched;
    or why the attempt is refused before any password is looked at."""

    staff_id: int | None
    password_hash: str
    refused: str = ""


@dataclass(frozen=True)
class Outcome:
    """A session token, or why not (wrong, locked). Returned, not raised, so the unit of work that
    records the attempt commits."""

    token: str = ""
    refused: str = ""


@dataclass(frozen=True)
class Session:
    actor: Actor
    csrf: str
    staff_name: str


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return HASHER.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    """Pure and slow (argon2): run it outside a unit of work."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_hash_of(ctx: ServiceContext, actor: Actor) -> str | None:
    """The stored hash (None: no password yet, as after a first sign-in by link)."""
    staff = ctx.session.get(Staff, actor.staff_id) if actor.staff_id else None
    return staff.password_hash if staff else None


def set_password(ctx: ServiceContext, actor: Actor, password_hash: str) -> None:
    staff = ctx.session.get(Staff, actor.staff_id) if actor.staff_id else None
    if staff is None:
        raise NotFoundError("staff")
    staff.password_hash = password_hash
    audit(ctx, actor, "password_set", f"staff {staff.id}")


def signin_check(ctx: ServiceContext, ws: WorkbenchSettings, phone: str, client: str) -> Candidate:
    """Refuse a client over its rate (busy) or a locked phone (locked); else what to verify against."""
    now = ctx.clock.now()
    s = ctx.session
    recent = s.scalar(
        select(func.count(SigninAttempt.id)).where(
            SigninAttempt.client_key == _key("client", client),
            SigninAttempt.at >= now - timedelta(minutes=ws.client_window_minutes),
        )
    )
    if (recent or 0) >= ws.client_attempts_per_window:
        audit(ctx, None, "signin_busy", "too many attempts from one client")
        return Candidate(None, _DUMMY, "busy")
    if _failures(ctx, ws, phone, now) >= ws.signin_max_failures:
        audit(ctx, None, "signin_locked", f"phone {mask_phone(phone)}")
        return Candidate(None, _DUMMY, "locked")
    staff = s.scalar(
        select(Staff)
        .where(Staff.phone == phone.strip(), Staff.active.is_(True), Staff.password_hash.is_not(None))
        .order_by(Staff.id)
        .limit(1)
    )
    if staff is None or not staff.password_hash:
        return Candidate(None, _DUMMY)
    return Candidate(staff.id, staff.password_hash)


def _failures(ctx: ServiceContext, ws: WorkbenchSettings, phone: str, now: datetime) -> int:
    """Failed attempts for this phone within the lockout window and since its last success."""
    login = _key("login", phone.strip())
    since = now - timedelta(minutes=ws.lockout_minutes)
    last_ok = ctx.session.scalar(
        select(func.max(SigninAttempt.at)).where(SigninAttempt.login_key == login, SigninAttempt.ok.is_(True))
    )
    if last_ok is not None and last_ok > since:
        since = last_ok
    return (
        ctx.session.scalar(
            select(func.count(SigninAttempt.id)).where(
                SigninAttempt.login_key == login, SigninAttempt.ok.is_(False), SigninAttempt.at > since
            )
        )
        or 0
    )


def signin_finish(
    ctx: ServiceContext, ws: WorkbenchSettings, phone: str, client: str, staff_id: int | None, ok: bool
) -> Outcome:
    """Record the attempt; a session when it succeeded."""
    now = ctx.clock.now()
    ctx.session.execute(delete(SigninAttempt).where(SigninAttempt.at < now - timedelta(days=1)))
    ctx.session.add(
        SigninAttempt(
            at=now, login_key=_key("login", phone.strip()), client_key=_key("client", client), ok=ok
        )
    )
    ctx.session.flush()
    if not ok or staff_id is None:
        audit(ctx, None, "signin_failed", f"phone {mask_phone(phone)}")
        if _failures(ctx, ws, phone, now) >= ws.signin_max_failures:
            audit(ctx, None, "signin_locked", f"phone {mask_phone(phone)}")
            return Outcome(refused="locked")
        return Outcome(refused="wrong")
    return Outcome(token=open_session(ctx, ws, staff_id, "password"))


def open_session(ctx: ServiceContext, ws: WorkbenchSettings, staff_id: int, method: str) -> str:
    """A new session for a staff member; returns the cookie's token (only its hash is stored)."""
    ident = get_or_create_identity(ctx, CHANNEL, f"staff{staff_id}")
    ident.staff_id = staff_id
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    ctx.session.add(
        StaffSession(
            token_hash=_key("session", token),
            staff_id=staff_id,
            identity_id=ident.id,
            csrf=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + timedelta(hours=ws.session_hours),
            revoked=False,
        )
    )
    ctx.session.flush()
    audit(ctx, actor_for(ctx, ident), "signin", f"staff {staff_id} by {method}")
    return token


def session_for(ctx: ServiceContext, token: str) -> Session | None:
    """The signed-in staff member behind a cookie, or None (unknown, expired, revoked, inactive)."""
    row = ctx.session.scalar(select(StaffSession).where(StaffSession.token_hash == _key("session", token)))
    if row is None or row.revoked or row.expires_at < ctx.clock.now():
        return None
    ident = get_or_create_identity(ctx, CHANNEL, f"staff{row.staff_id}")
    actor = actor_for(ctx, ident)
    if not actor.is_staff:
        return None
    return Session(actor, row.csrf, actor.name)


def sign_out(ctx: ServiceContext, token: str) -> None:
    row = ctx.session.scalar(select(StaffSession).where(StaffSession.token_hash == _key("session", token)))
    if row is not None and not row.revoked:
        row.revoked = True
        audit(ctx, None, "signout", f"staff {row.staff_id}")


def issue_link(ctx: ServiceContext, ws: WorkbenchSettings, ref: str) -> str | None:
    """A one-time sign-in token for the staff member behind an identity (None: not a staff identity)."""
    ident = find_identity(ctx, ref)
    if ident is None or ident.staff_id is None:
        return None
    staff = ctx.session.get(Staff, ident.staff_id)
    if staff is None or not staff.active:
        return None
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    ctx.session.add(
        SigninLink(
            token_hash=_key("link", token),
            staff_id=staff.id,
            created_at=now,
            expires_at=now + timedelta(minutes=ws.link_minutes),
        )
    )
    audit(ctx, None, "signin_link_issued", f"staff {staff.id}")
    ctx.session.flush()
    return token


def link_is_valid(ctx: ServiceContext, token: str) -> bool:
    link = ctx.session.scalar(select(SigninLink).where(SigninLink.token_hash == _key("link", token)))
    return link is not None and link.used_at is None and link.expires_at >= ctx.clock.now()


def redeem_link(ctx: ServiceContext, ws: WorkbenchSettings, token: str) -> str | None:
    """Use a sign-in link once: a session token, or None when it is unknown, used or expired."""
    link = ctx.session.scalar(select(SigninLink).where(SigninLink.token_hash == _key("link", token)))
    now = ctx.clock.now()
    if link is None or link.used_at is not None or link.expires_at < now:
        audit(ctx, None, "signin_link_refused", "unknown, used or expired")
        return None
    link.used_at = now
    staff = ctx.session.get(Staff, link.staff_id)
    if staff is None or not staff.active:
        return None
    return open_session(ctx, ws, staff.id, "link")
