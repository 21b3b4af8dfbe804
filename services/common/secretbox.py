"""Customer secrets at rest (storage keys, OAuth tokens): sealed with a key derived from the platform key.

A token is `v1.` + unpadded urlsafe base64 of nonce || AES-256-GCM ciphertext and tag. The caller's
`context` (e.g. "<job id>/s3_secret_key") is authenticated with it, so a token copied into another row or
field does not open there. Only the version prefix is readable: no plaintext, no key, no context.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.common.errors import DomainError, R

_VERSION = "v1."
_INFO = b"vidkiln secretbox v1"
_NONCE_BYTES = 12  # 96 bits, GCM's native nonce size; random per seal
_TAG_BYTES = 16
_TOKEN_BODY = re.compile(r"[A-Za-z0-9_-]+")


# The context customer storage credentials are sealed under (the gateway seals, ingest and workers open).
CUSTOMER_CREDENTIALS = "customer-storage-credentials"


class SecretBoxError(DomainError):
    """A token that does not open: another platform key, another context, or damaged. Never says which."""

    default_reason = R.INTERNAL


def _derive(platform_key: bytes) -> bytes:
    """The 256-bit AES key of version 1 (HKDF-SHA256, extract and expand), separate from every other use."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=_INFO).derive(platform_key)


def _aad(context: str) -> bytes:
    if not context:
        raise ValueError("A secret must be sealed for a context (e.g. the owning row and field).")
    return context.encode()


def _decode(token: str) -> bytes | None:
    """nonce || ciphertext of a well-formed v1 token, else None."""
    if not token.startswith(_VERSION):
        return None
    body = token[len(_VERSION) :]
    if not _TOKEN_BODY.fullmatch(body):
        return None
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) >= _NONCE_BYTES + _TAG_BYTES else None


class SecretBox:
    """Seals and opens secrets with AES-256-GCM under a key derived from the platform key."""

    __slots__ = ("_aead",)

    def __init__(self, platform_key: bytes) -> None:
        if not platform_key:
            raise ValueError("The platform key is empty.")
        self._aead = AESGCM(_derive(platform_key))

    def __repr__(self) -> str:
        return "SecretBox(v1, key hidden)"

    def seal(self, plaintext: bytes | str, *, context: str) -> str:
        """An ASCII token of plaintext (str as UTF-8) that opens only with this key and the same context."""
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, data, _aad(context))
        return _VERSION + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, token: str, *, context: str) -> bytes:
        """The plaintext sealed in token for context; SecretBoxError if it does not open."""
        aad = _aad(context)
        raw = _decode(token)
        if raw is None:
            raise SecretBoxError("The stored secret is not a vidkiln v1 secret token.")
        try:
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad)
        except InvalidTag:
            raise SecretBoxError(
                "The stored secret does not open: another platform key, another context, or a damaged token."
            ) from None

    def seal_json(self, obj: Mapping[str, Any], *, context: str) -> str:
        """seal() of a JSON object, e.g. a set of credentials."""
        return self.seal(json.dumps(dict(obj), separators=(",", ":"), sort_keys=True), context=context)

    def open_json(self, token: str, *, context: str) -> dict[str, Any]:
        """The JSON object sealed by seal_json; SecretBoxError if it does not open or is not an object."""
        plaintext = self.open(token, context=context)
        try:
            obj = json.loads(plaintext)
        except ValueError:  # decoding errors carry the plaintext: none leaves this block
            obj = None
        if not isinstance(obj, dict):
            raise SecretBoxError("The stored secret is not a JSON object.")
        return obj
