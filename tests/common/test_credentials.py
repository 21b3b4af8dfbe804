"""The gateway's key cache: one lookup per key however many requests, refreshed ahead of time."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from services.common.credentials import CredentialResolver
from services.common.errors import R, Unauthenticated
from services.common.identity import Principal, TokenSigner

KEY = "cvr_" + "k" * 40
PRINCIPAL = Principal(account_id=uuid.uuid4(), scopes=frozenset({"jobs:read"}), key_id=uuid.uuid4())


class Auth:
    """Stands in for the auth service's lookup: counts calls, can be held or made to refuse."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.refuse = False

    async def __call__(self, credential: str) -> tuple[Principal, str, float]:
        self.calls += 1
        await self.gate.wait()
        if self.refuse:
            raise Unauthenticated("The API key was revoked.", reason=R.API_KEY_INVALID)
        return PRINCIPAL, f"token-{self.calls}", time.time() + 3600


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_requests_share_one_lookup() -> None:
    auth = Auth()
    resolver = CredentialResolver(TokenSigner(b"k"), auth, ttl=10.0)
    auth.gate.clear()
    waiting = [asyncio.create_task(resolver.resolve(KEY)) for _ in range(50)]
    await asyncio.sleep(0.01)
    auth.gate.set()
    callers = await asyncio.gather(*waiting)
    assert auth.calls == 1 and {c.token for c in callers} == {"token-1"}
    assert (await resolver.resolve(KEY)).token == "token-1" and auth.calls == 1


async def test_a_busy_key_is_refreshed_in_the_background() -> None:
    auth, clock = Auth(), Clock()
    resolver = CredentialResolver(TokenSigner(b"k"), auth, ttl=10.0, clock=clock)
    await resolver.resolve(KEY)
    clock.now += 6.0  # past half its time: still served, and refreshed meanwhile
    auth.gate.clear()
    assert (await asyncio.wait_for(resolver.resolve(KEY), 0.1)).token == "token-1"  # no wait for auth
    assert (await asyncio.wait_for(resolver.resolve(KEY), 0.1)).token == "token-1"
    assert auth.calls == 2  # one refresh, not one per request
    auth.gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert (await resolver.resolve(KEY)).token == "token-2"
    clock.now += 10.0  # nobody used it: expired, looked up again while the request waits
    assert (await resolver.resolve(KEY)).token == "token-3"


async def test_refusals_are_not_cached_and_a_revocation_beats_a_lookup_under_way() -> None:
    auth = Auth()
    resolver = CredentialResolver(TokenSigner(b"k"), auth, ttl=10.0)
    auth.gate.clear()
    pending = asyncio.create_task(resolver.resolve(KEY))
    await asyncio.sleep(0)
    assert PRINCIPAL.key_id is not None
    resolver.revoked(PRINCIPAL.key_id)  # the broadcast arrives while auth still answers
    auth.gate.set()
    await pending  # that request was already in flight
    auth.refuse = True
    with pytest.raises(Unauthenticated):
        await resolver.resolve(KEY)  # not served from a cache the revocation should have emptied
    with pytest.raises(Unauthenticated):
        await resolver.resolve(KEY)
    assert auth.calls == 3
