"""The resolver and revocations: session tokens go through auth, revoked ids are refused even when verified locally."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace

import pytest

from protos.auth.v1 import events_pb2
from services.common import subjects
from services.common.credentials import CredentialResolver
from services.common.errors import R, Unauthenticated
from services.common.events import connect_nats
from services.common.identity import Principal, TokenSigner
from tests.harness import NatsServer

SIGNER = TokenSigner(b"k")
ACCOUNT = uuid.uuid4()
SESSION = Principal(account_id=ACCOUNT, scopes=frozenset({"jobs:read"}), session=True, session_id=uuid.uuid4())
KEYED = Principal(account_id=ACCOUNT, scopes=frozenset({"jobs:read"}), key_id=uuid.uuid4())


class Auth:
    """Stands in for auth's Authenticate: answers with the token's own principal, counts calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.refuse = False

    async def __call__(self, credential: str) -> tuple[Principal, str, float]:
        self.calls += 1
        if self.refuse:
            raise Unauthenticated("The session has ended.", reason=R.TOKEN_INVALID)
        return SIGNER.verify(credential), credential, time.time() + 900


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_session_tokens_are_resolved_through_auth_and_cached() -> None:
    auth = Auth()
    resolver = CredentialResolver(SIGNER, auth, ttl=10.0)
    token = SIGNER.issue(SESSION)[0]
    for _ in range(3):
        assert (await resolver.resolve(token)).principal == SESSION
    assert auth.calls == 1  # asked once, then a cache hit
    internal = SIGNER.issue(KEYED)[0]
    assert (await resolver.resolve(internal)).principal == KEYED and auth.calls == 1  # verified here


async def test_a_broadcast_session_revocation_drops_it_at_once_and_for_good() -> None:
    auth = Auth()
    resolver = CredentialResolver(SIGNER, auth, ttl=10.0)
    token = SIGNER.issue(SESSION)[0]
    other = SIGNER.issue(replace(SESSION, session_id=uuid.uuid4()))[0]
    await resolver.resolve(token)
    await resolver.resolve(other)
    assert SESSION.session_id is not None

    resolver.session_revoked(SESSION.session_id)

    with pytest.raises(Unauthenticated) as refused:
        await resolver.resolve(token)
    assert refused.value.reason == R.TOKEN_INVALID
    # Refused without asking auth: even an auth replica that had not seen the logout cannot let it back in.
    assert auth.calls == 2
    newer = SIGNER.issue(SESSION)[0]  # another access token of that login (a refresh in flight)
    with pytest.raises(Unauthenticated):
        await resolver.resolve(newer)
    await resolver.resolve(other)  # another login is untouched
    assert auth.calls == 2


async def test_tokens_of_a_revoked_key_are_refused_though_verified_locally() -> None:
    """Services verify the tokens derived from API keys themselves: they must remember the revocation."""
    resolver = CredentialResolver(SIGNER, Auth(), ttl=10.0)
    internal = SIGNER.issue(KEYED)[0]
    await resolver.resolve(internal)
    assert KEYED.key_id is not None

    resolver.revoked(KEYED.key_id)

    with pytest.raises(Unauthenticated):
        await resolver.resolve(internal)
    await resolver.resolve(SIGNER.issue(replace(KEYED, key_id=uuid.uuid4()))[0])


async def test_revocations_are_remembered_for_the_longest_token_lifetime_only() -> None:
    clock = Clock()
    resolver = CredentialResolver(SIGNER, Auth(), ttl=10.0, clock=clock, remember=3600.0)
    assert KEYED.key_id is not None
    resolver.revoked(KEYED.key_id)
    clock.now += 3599.0
    with pytest.raises(Unauthenticated):
        await resolver.resolve(SIGNER.issue(KEYED)[0])
    clock.now += 2.0  # every token naming it has expired by now: the memory may go
    resolver.revoked(uuid.uuid4())  # forgetting happens as new revocations come in
    # Accepted again only because this token's wall clock did not move with the resolver's.
    await resolver.resolve(SIGNER.issue(KEYED)[0])


async def test_the_resolver_hears_session_revocations_on_nats(nats: NatsServer) -> None:
    auth = Auth()
    resolver = CredentialResolver(SIGNER, auth, ttl=60.0)
    token = SIGNER.issue(SESSION)[0]
    await resolver.resolve(token)
    listener = await connect_nats(nats.url, name="listener")
    announcer = await connect_nats(nats.url, name="announcer")
    try:
        await resolver.listen(listener)
        await listener.flush()
        message = events_pb2.SessionRevoked(session_id=str(SESSION.session_id))
        await announcer.publish(subjects.SESSION_REVOKED, message.SerializeToString())
        await announcer.flush()
        deadline = time.monotonic() + 1.0
        while True:
            try:
                await resolver.resolve(token)
            except Unauthenticated:
                break
            assert time.monotonic() < deadline, "the broadcast did not reach the resolver"
            await asyncio.sleep(0.01)
    finally:
        await announcer.drain()
        await listener.drain()
