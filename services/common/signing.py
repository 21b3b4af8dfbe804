"""Signed, expiring URLs: downloads of blob-store objects (the "CDN" links) and upload targets."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote, urlencode

from services.common.keys import derive_key


class UrlSigner:
    """HMAC-SHA256 over the path's key, the expiry and every other parameter; constant-time checks.

    Each purpose has its own derived key, so a download link can never serve as an upload target.
    """

    def __init__(self, platform_key: bytes, *, purpose: str = "download-url", prefix: str = "/cdn/") -> None:
        self._key = derive_key(platform_key, purpose)
        self._prefix = prefix

    def _mac(self, key: str, expires: int, params: Mapping[str, str]) -> str:
        fields = "\n".join(f"{k}={params[k]}" for k in sorted(params))
        digest = hmac.new(self._key, f"{key}\n{expires}\n{fields}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def path(self, key: str, *, expires_at: datetime, **params: str) -> str:
        """`<prefix><key>?expires=..&<params>&sig=..`, to be joined to the gateway's public URL."""
        expires = int(expires_at.timestamp())
        query = urlencode({"expires": expires, **params, "sig": self._mac(key, expires, params)})
        return f"{self._prefix}{quote(key)}?{query}"

    def verify(self, key: str, *, expires: int, sig: str, **params: str) -> bool:
        """True when the signature matches (expiry is checked by the caller against its clock)."""
        return hmac.compare_digest(self._mac(key, expires, params).encode(), sig.encode())
