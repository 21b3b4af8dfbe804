"""Purpose-bound keys derived from the one platform secret."""

from __future__ import annotations

import hashlib
import hmac


def derive_key(platform_key: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose (HKDF-Expand, one block), so a leak of one use spares others."""
    return hmac.new(platform_key, f"vidkiln/{purpose}".encode() + b"\x01", hashlib.sha256).digest()
