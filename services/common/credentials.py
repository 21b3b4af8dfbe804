"""Resolving a bearer credential to a caller: tokens are checked locally, API keys through auth.

Used by the gateway and by every service's interceptor (gRPC callers may present a raw API key).
A resolved key is reused for a few seconds without asking auth again, and dropped at once when
auth broadcasts its revocation.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from protos.auth.v1 import events_pb2
from services.common import subjects
from services.common.identity import Principal, TokenSigner, bearer_metadata

logger = logging.getLogger(__name__)

KEY_PREFIX = "cvr_"
_MAX_CACHED = 10_000


def _quiet(future: asyncio.Future[Caller]) -> None:
    """A background refresh that failed: the next request looks the key up itself."""
    if not future.cancelled():
        future.exception()


@dataclass(frozen=True)
class Caller:
    """A verified caller: its principal and a token services accept for it."""

    principal: Principal
    token: str

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return bearer_metadata(self.token)


# Resolves a raw API key: (principal, token, expiry as epoch seconds); raises Unauthenticated.
KeyLookup = Callable[[str], Awaitable[tuple[Principal, str, float]]]


class CredentialResolver:
    """API keys resolved through auth and reused for `ttl` seconds. A key in use is refreshed in
    the background in the second half of its time, and one lookup serves every concurrent request
    of a key: a busy key never waits for auth, and auth never sees a stampede."""

    def __init__(
        self, signer: TokenSigner, lookup: KeyLookup, *, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._signer = signer
        self._clock = clock
        self._lookup = lookup
        self._ttl = ttl
        self._cache: dict[str, tuple[Caller, float, float]] = {}  # digest -> (caller, refresh after, valid until)
        self._inflight: dict[str, asyncio.Future[Caller]] = {}
        self._generation = 0  # moves on each revocation: a lookup begun before it is not cached

    async def resolve(self, credential: str) -> Caller:
        """The caller behind an API key (cvr_...) or a token; Unauthenticated when it is not valid."""
        if not credential.startswith(KEY_PREFIX):
            return Caller(self._signer.verify(credential), credential)
        digest = hashlib.sha256(credential.encode()).hexdigest()
        hit = self._cache.get(digest)
        if hit is not None:
            caller, refresh_after, valid_until = hit
            now = self._clock()
            if now < valid_until:
                if now >= refresh_after and digest not in self._inflight:
                    self._start_lookup(digest, credential).add_done_callback(_quiet)
                return caller
        future = self._inflight.get(digest) or self._start_lookup(digest, credential)
        return await asyncio.shield(future)

    def _start_lookup(self, digest: str, credential: str) -> asyncio.Future[Caller]:
        future = asyncio.ensure_future(self._look_up(digest, credential, self._generation))
        self._inflight[digest] = future
        future.add_done_callback(lambda _: self._inflight.pop(digest, None))
        return future

    async def _look_up(self, digest: str, credential: str, generation: int) -> Caller:
        try:
            principal, token, expires = await self._lookup(credential)
        except Exception:
            self._cache.pop(digest, None)  # revoked, expired or unknown: ask again next time
            raise
        caller = Caller(principal, token)
        lifetime = min(self._ttl, expires - time.time() - 1.0)
        if lifetime > 0 and generation == self._generation:
            now = self._clock()
            if len(self._cache) >= _MAX_CACHED and digest not in self._cache:
                self._cache = {k: v for k, v in self._cache.items() if v[2] > now}
                if len(self._cache) >= _MAX_CACHED:
                    self._cache.clear()
            self._cache[digest] = (caller, now + lifetime / 2, now + lifetime)
        return caller

    def revoked(self, key_id: uuid.UUID) -> None:
        """Forgets every cached resolution of the key (and any lookup of it already under way)."""
        self._generation += 1
        self._cache = {k: v for k, v in self._cache.items() if v[0].principal.key_id != key_id}

    async def listen(self, nc: NATS) -> Subscription:
        """Drops keys as auth revokes them (core NATS: within milliseconds on every replica)."""

        async def received(msg: Msg) -> None:
            try:
                self.revoked(uuid.UUID(events_pb2.KeyRevoked.FromString(msg.data).key_id))
            except Exception:
                logger.exception("bad key revocation message")

        return await nc.subscribe(subjects.KEY_REVOKED, cb=received)
