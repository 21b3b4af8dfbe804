"""Webhook signatures: the Encode API's, the Media API's and Standard Webhooks', on every delivery.

- Encode API: `X-Webhook-Signature: <hex>`, HMAC-SHA256 of the raw body keyed by the secret.
- Media API: `X-T2M-Signature: sha256=<hex>`, the same digest with a prefix.
- Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
  `webhook-signature: v1,<base64>` over `<id>.<timestamp>.<body>`, so a receiver can refuse replays.
  The key is the secret's bytes after `whsec_` base64-decoded (the secrets vidkiln makes have that
  form, so the standard libraries verify them as they are); any other secret signs with its UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh subscription secret: 32 random bytes in the Standard Webhooks form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def hex_signature(secret: str, body: bytes) -> str:
    """The Encode API's signature (the Media API's after `sha256=`)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_key(secret: str) -> bytes:
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except binascii.Error:
            pass
    return secret.encode()


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    *, dialect: str, secret: str | None, webhook_id: str, event: str, msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Every header of one attempt (the timestamp is the attempt's, so a retry is signed afresh); no
    signature without a secret (a one-off callback)."""
    out = {
        "Content-Type": "application/json",
        "User-Agent": "vidkiln-webhooks/1",
        "X-Webhook-Event": event,
        "X-Webhook-Id": webhook_id,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
    }
    if secret is None:
        return out
    digest = hex_signature(secret, body)
    out["webhook-signature"] = standard_signature(secret, msg_id, timestamp, body)
    if dialect == "media":
        out["X-T2M-Signature"] = f"sha256={digest}"
    else:
        out["X-Webhook-Signature"] = digest
    return out
