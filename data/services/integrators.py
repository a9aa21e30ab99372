"""Open311 integrators: hashed API keys with scopes and per-minute budgets, their webhooks, and the
webhook rows queued (through the outbox) when a ticket's status changes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select, update

from data.models import ApiKey, AuditLog
from data.services import ServiceContext
from data.services.directory import get_or_create_identity

SCOPES = ("read", "write", "private")
CHANNEL = "open311"  # the integrator as a reporter of tickets
KEY_PREFIX = "lh311_"


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    rate_per_minute: int
    identity_id: int
    created_at: datetime
    revoked: bool
    last_used_at: datetime | None
    webhook_url: str | None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(
        row.id,
        row.name,
        row.prefix,
        tuple(s for s in row.scopes.split(",") if s),
        row.rate_per_minute,
        row.identity_id,
        row.created_at,
        row.revoked_at is not None,
        row.last_used_at,
        row.webhook_url,
    )


def audit(ctx: ServiceContext, key: KeyInfo | None, action: str, detail: str) -> None:
    """Every integrator write goes to the audit log (no personal data in `detail`)."""
    ctx.session.add(
        AuditLog(
            at=ctx.clock.now(),
            identity_id=key.identity_id if key else None,
            action=action,
            detail=detail[:500],
        )
    )


def create_key(
    ctx: ServiceContext, name: str, scopes: tuple[str, ...], rate_per_minute: int
) -> tuple[str, KeyInfo]:
    """A new key; the key itself is returned once and only its hash is kept. `write` implies `read`."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")
    wanted = tuple(s for s in SCOPES if s in {"read", *scopes})
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    ident = get_or_create_identity(ctx, CHANNEL, f"key-{secrets.token_hex(6)}")
    row = ApiKey(
        name=name[:100],
        key_hash=_hash(key),
        prefix=key[: len(KEY_PREFIX) + 6],
        scopes=",".join(wanted),
        rate_per_minute=rate_per_minute,
        identity_id=ident.id,
        created_at=ctx.clock.now(),
        window_count=0,
    )
    ctx.session.add(row)
    ctx.session.flush()
    info = _info(row)
    audit(ctx, None, "api_key.create", f"key {row.id} ({row.prefix}) scopes {row.scopes}")
    return key, info


def _find(ctx: ServiceContext, ref: str) -> ApiKey | None:
    """A key by id or by its listed prefix."""
    if ref.isdigit():
        return ctx.session.get(ApiKey, int(ref))
    return ctx.session.scalar(select(ApiKey).where(ApiKey.prefix == ref))


def revoke_key(ctx: ServiceContext, ref: str) -> KeyInfo | None:
    row = _find(ctx, ref)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = ctx.clock.now()
        audit(ctx, None, "api_key.revoke", f"key {row.id} ({row.prefix})")
    return _info(row)


def list_keys(ctx: ServiceContext) -> list[KeyInfo]:
    return [_info(r) for r in ctx.session.scalars(select(ApiKey).order_by(ApiKey.id))]


def key_for(ctx: ServiceContext, key: str) -> KeyInfo | None:
    """The live key behind a presented api_key, or None (unknown or revoked)."""
    row = ctx.session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(key)))
    if row is None or row.revoked_at is not None:
        return None
    return _info(row)


def spend(ctx: ServiceContext, key: KeyInfo) -> int:
    """Count one call in the key's current one-minute window; returns seconds to wait when over budget
    (0 = go ahead). One UPDATE … RETURNING, so concurrent server processes count together."""
    now = ctx.clock.now()
    window = now.replace(second=0, microsecond=0)
    count = ctx.session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id)
        .values(
            window_count=case((ApiKey.window_start == window, ApiKey.window_count + 1), else_=1),
            window_start=window,
            last_used_at=now,
        )
        .returning(ApiKey.window_count)
    ).scalar_one()
    if count <= key.rate_per_minute:
        return 0
    return max(1, int((window + timedelta(minutes=1) - now).total_seconds() + 0.999))


def set_webhook(ctx: ServiceContext, key: KeyInfo, url: str | None) -> str | None:
    """Register (or with None remove) the key's webhook; returns the new signing secret."""
    row = ctx.session.get(ApiKey, key.id)
    assert row is not None
    if not url:
        row.webhook_url = row.webhook_secret = None
        audit(ctx, key, "webhook.remove", f"key {key.id}")
        return None
    if not url.startswith(("http://", "https://")) or len(url) > 500:
        raise ValueError("webhook url must be an http(s) address of at most 500 characters")
    row.webhook_url = url
    row.webhook_secret = secrets.token_hex(32)
    audit(ctx, key, "webhook.register", f"key {key.id}")
    return row.webhook_secret
