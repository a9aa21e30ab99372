"""Webhook delivery: one outbox row = one POST of JSON, signed with the integrator's secret.

Headers: `X-Lianhu-Timestamp` (Unix seconds), `X-Lianhu-Signature: sha256=<hex>` where the hex is
HMAC-SHA256(secret, timestamp + "." + body), and `X-Lianhu-Delivery` (the outbox row's id, the same
on every retry, so a receiver can drop a repeat). A 2xx answer is delivered; anything else raises
and the dispatcher retries with backoff. Rows of one dead endpoint never hold up other rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from bot.notify import Undeliverable
from core.render import OutMessage
from data.db import Database
from data.services.outbox import Delivery
from data.services.webhooks import webhook_target

SIGNATURE = "X-Lianhu-Signature"
TIMESTAMP = "X-Lianhu-Timestamp"
DELIVERY = "X-Lianhu-Delivery"


class WebhookGone(Undeliverable):
    """The integrator removed its webhook or its key was revoked: nothing to deliver to."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if abs(time.time() - float(timestamp or 0)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSender:
    def __init__(self, db: Database, timeout: float) -> None:
        self.db = db
        self.timeout = timeout

    def deliver(self, external_id: str, message: OutMessage, delivery: Delivery) -> None:
        with self.db.session() as s:
            target = webhook_target(s, delivery.identity_id)
        if target is None:
            raise WebhookGone(f"no webhook for identity {delivery.identity_id}")
        body = json.dumps(delivery.params, ensure_ascii=False, separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE: sign(target.secret, stamp, body),
            TIMESTAMP: stamp,
            DELIVERY: str(delivery.id),
            "User-Agent": "Lianhu-Open311-Webhook/1",
        }
        response = httpx.post(target.url, content=body, headers=headers, timeout=self.timeout)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"webhook answered HTTP {response.status_code}")
