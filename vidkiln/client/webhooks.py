"""Verifying webhook deliveries: the Encode API's, the Media API's and Standard Webhooks' signatures.

Pass the raw request body (bytes, exactly as received) and its headers; every comparison is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vidkiln.client.errors import WebhookVerificationError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300.0  # seconds a Standard Webhooks timestamp may be off: older is a replay


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _key(secret: str) -> bytes:
    """Standard Webhooks' key: the bytes after `whsec_` base64-decoded; any other secret's UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except binascii.Error:
            pass
    return secret.encode()


def verify_encode_signature(secret: str, body: bytes, signature: str) -> bool:
    """The Encode API's `X-Webhook-Signature`: the hex HMAC-SHA256 of the body."""
    return hmac.compare_digest(_hex(secret, body), signature.strip())


def verify_media_signature(secret: str, body: bytes, signature: str) -> bool:
    """The Media API's `X-T2M-Signature`: `sha256=` and the hex HMAC-SHA256 of the body."""
    return hmac.compare_digest(f"sha256={_hex(secret, body)}", signature.strip())


def verify_standard_webhook(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Standard Webhooks: `webhook-signature` (`v1,<base64>` entries) over `<webhook-id>.<webhook-timestamp>.<body>`,
    and a timestamp within `tolerance` seconds of now (older deliveries are replays)."""
    lower = _lower(headers)
    msg_id, stamp, signatures = lower.get("webhook-id"), lower.get("webhook-timestamp"), lower.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        return False
    try:
        sent = int(stamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    digest = hmac.new(_key(secret), f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    return any(
        hmac.compare_digest(expected, entry.split(",", 1)[1]) for entry in signatures.split() if entry.startswith("v1,")
    )


def verify_webhook(
    secret: str, body: bytes, headers: Mapping[str, str], *, tolerance: float = DEFAULT_TOLERANCE
) -> bool:
    """Every signature the delivery carries must verify, and it must carry at least one: the dialect's
    (`X-Webhook-Signature` or `X-T2M-Signature`) and the Standard Webhooks one, which refuses replays."""
    lower = _lower(headers)
    checks: list[bool] = []
    if "x-webhook-signature" in lower:
        checks.append(verify_encode_signature(secret, body, lower["x-webhook-signature"]))
    if "x-t2m-signature" in lower:
        checks.append(verify_media_signature(secret, body, lower["x-t2m-signature"]))
    if "webhook-signature" in lower:
        checks.append(verify_standard_webhook(secret, body, lower, tolerance=tolerance))
    return bool(checks) and all(checks)


@dataclass(frozen=True)
class WebhookEvent:
    """A verified delivery: the event's name, its id (the same on every retry: deduplicate on it), its payload."""

    id: str | None
    event: str
    timestamp: str | None
    data: dict[str, Any]
    subscription_id: str | None


def parse_webhook(
    secret: str, body: bytes, headers: Mapping[str, str], *, tolerance: float = DEFAULT_TOLERANCE
) -> WebhookEvent:
    """The delivery's event once `verify_webhook` accepts it; WebhookVerificationError otherwise."""
    if not verify_webhook(secret, body, headers, tolerance=tolerance):
        raise WebhookVerificationError("the webhook's signature does not verify")
    payload = json.loads(body)
    lower = _lower(headers)
    return WebhookEvent(
        id=lower.get("webhook-id"),
        event=str(payload.get("event", lower.get("x-webhook-event", ""))),
        timestamp=payload.get("timestamp"),
        data=dict(payload.get("data") or {}),
        subscription_id=lower.get("x-webhook-id"),
    )
