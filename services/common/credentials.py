"""Resolving a bearer credential to a caller: API keys and login sessions through auth, internal tokens locally.

Used by the gateway and by every service's interceptor (gRPC callers may present a raw API key or
an access token). A resolved key or session is reused for a few seconds without asking auth again,
and dropped at once when auth broadcasts its revocation. Revoked keys and sessions are remembered
for the longest token lifetime, so a token naming one is refused even where it is only verified
here (the internal tokens derived from keys, which services never send to auth).
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
from services.common.errors import R, Unauthenticated
from services.common.identity import MAX_TOKEN_LIFETIME, Principal, TokenSigner, bearer_metadata

logger = logging.getLogger(__name__)

KEY_PREFIX = "cvr_"
_MAX_CACHED = 10_000
_MAX_REMEMBERED = 100_000  # revoked ids per kind; past it the oldest go (sessions are still checked by auth)


def _quiet(future: asyncio.Future[Caller]) -> None:
    """A background refresh that failed: the next request looks the credential up itself."""
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


# Resolves a raw API key or a session's access token: (principal, token, expiry as epoch seconds);
# raises Unauthenticated (or auth's gRPC status) when auth refuses it.
KeyLookup = Callable[[str], Awaitable[tuple[Principal, str, float]]]


class _Revoked:
    """Ids revoked lately, each kept until every token that can name it has expired."""

    def __init__(self, clock: Callable[[], float], remember: float) -> None:
        self._clock = clock
        self._remember = remember
        self._until: dict[uuid.UUID, float] = {}  # in order of revocation, so also of forgetting

    def add(self, revoked: uuid.UUID) -> None:
        now = self._clock()
        self._until.pop(revoked, None)
        self._until[revoked] = now + self._remember
        while self._until:
            oldest, until = next(iter(self._until.items()))
            if until > now and len(self._until) <= _MAX_REMEMBERED:
                break
            del self._until[oldest]

    def __contains__(self, candidate: uuid.UUID | None) -> bool:
        return candidate is not None and candidate in self._until


class CredentialResolver:
    """API keys and session access tokens resolved through auth and reused for `ttl` seconds. One in
    use is refreshed in the background in the second half of its time, and one lookup serves every
    concurrent request of it: a busy credential never waits for auth, and auth never sees a stampede.
    A process that missed a revocation broadcast still stops accepting it within `ttl`."""

    def __init__(
        self,
        signer: TokenSigner,
        lookup: KeyLookup,
        *,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        remember: float = MAX_TOKEN_LIFETIME.total_seconds(),
    ) -> None:
        self._signer = signer
        self._clock = clock
        self._lookup = lookup
        self._ttl = ttl
        self._cache: dict[str, tuple[Caller, float, float]] = {}  # digest -> (caller, refresh after, valid until)
        self._inflight: dict[str, asyncio.Future[Caller]] = {}
        self._generation = 0  # moves on each revocation: a lookup begun before it is not cached
        self._revoked_keys = _Revoked(clock, remember)
        self._revoked_sessions = _Revoked(clock, remember)

    async def resolve(self, credential: str) -> Caller:
        """The caller behind an API key (cvr_...) or a token; Unauthenticated when it is not valid."""
        # The hot path: a credential seen in the last few seconds is one hash and one dict lookup.
        digest = hashlib.sha256(credential.encode()).hexdigest()
        hit = self._cache.get(digest)
        if hit is not None:
            caller, refresh_after, valid_until = hit
            now = self._clock()
            if now < valid_until:
                if now >= refresh_after and digest not in self._inflight:
                    self._start_lookup(digest, credential).add_done_callback(_quiet)
                return caller
        if not credential.startswith(KEY_PREFIX):
            # Verified here first, so garbage never reaches auth.
            principal = self._signer.verify(credential)
            self._refuse_revoked(principal)
            if not principal.session:
                return Caller(principal, credential)  # an internal token: its signature is enough
            # A login's access token: only auth knows whether the login has ended since.
        future = self._inflight.get(digest) or self._start_lookup(digest, credential)
        return await asyncio.shield(future)

    def _refuse_revoked(self, principal: Principal) -> None:
        if principal.session_id in self._revoked_sessions:
            raise Unauthenticated("This login has ended: sign in again.", reason=R.TOKEN_INVALID)
        if principal.key_id in self._revoked_keys:
            raise Unauthenticated("The API key is not valid.", reason=R.API_KEY_INVALID)

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
        """Forgets every cached resolution of the key (and any lookup of it already under way), and
        refuses the tokens derived from it from now on."""
        self._revoked_keys.add(key_id)
        self._forget(lambda principal: principal.key_id == key_id)

    def session_revoked(self, session_id: uuid.UUID) -> None:
        """Forgets the login's access tokens and refuses them from now on (a logout, a stolen chain)."""
        self._revoked_sessions.add(session_id)
        self._forget(lambda principal: principal.session_id == session_id)

    def _forget(self, match: Callable[[Principal], bool]) -> None:
        self._generation += 1
        self._cache = {k: v for k, v in self._cache.items() if not match(v[0].principal)}

    async def listen(self, nc: NATS) -> list[Subscription]:
        """Drops keys and logins as auth revokes them (core NATS: within milliseconds on every replica)."""

        async def key_revoked(msg: Msg) -> None:
            try:
                self.revoked(uuid.UUID(events_pb2.KeyRevoked.FromString(msg.data).key_id))
            except Exception:
                logger.exception("bad key revocation message")

        async def session_revoked(msg: Msg) -> None:
            try:
                self.session_revoked(uuid.UUID(events_pb2.SessionRevoked.FromString(msg.data).session_id))
            except Exception:
                logger.exception("bad session revocation message")

        return [
            await nc.subscribe(subjects.KEY_REVOKED, cb=key_revoked),
            await nc.subscribe(subjects.SESSION_REVOKED, cb=session_revoked),
        ]
