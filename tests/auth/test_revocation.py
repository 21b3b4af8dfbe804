"""Revoking a login reaches its access tokens: auth refuses them, and so does a resolver that never heard of it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.auth import domain
from services.auth.models import AuthTable
from services.common.config import BaseServiceSettings
from services.common.credentials import CredentialResolver
from services.common.db import open_database
from services.common.errors import R, Unauthenticated
from services.common.identity import Principal, TokenSigner

PASSWORD = "correct horse battery"


class Clock:
    """The resolver's monotonic clock, moved by the test instead of by sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Announcements:
    """Records what auth would broadcast (nobody hears it: the resolvers under test miss it)."""

    def __init__(self) -> None:
        self.sessions: list[str] = []

    async def __call__(self, session_id: str) -> None:
        self.sessions.append(session_id)


@pytest.fixture
def announced() -> Announcements:
    return Announcements()


@pytest.fixture
async def deps(tmp_path: Path, database_url: str | None, announced: Announcements) -> AsyncIterator[domain.Deps]:
    settings = BaseServiceSettings(data_dir=tmp_path, database_url=database_url)
    async with open_database(settings.database_url_for("auth"), AuthTable.metadata) as sessions:
        deps = domain.Deps(sessions=sessions, signer=TokenSigner(b"platform-key"), announce_session_revoked=announced)
        await domain.create_account(deps, email="me@example.com", password=PASSWORD)
        yield deps


def _resolver(deps: domain.Deps, clock: Clock, *, ttl: float = 10.0) -> CredentialResolver:
    """A resolver asking this auth database, as a service's asks the auth service."""

    async def lookup(credential: str) -> tuple[Principal, str, float]:
        principal, token, expires = await domain.authenticate(deps, credential=credential)
        return principal, token, expires.timestamp()

    return CredentialResolver(TokenSigner(b"platform-key"), lookup, ttl=ttl, clock=clock)


async def _refused(deps: domain.Deps, token: str) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as refused:
        await domain.authenticate(deps, credential=token)
    return refused.value


async def test_auth_refuses_the_access_token_of_a_logged_out_session(
    deps: domain.Deps, announced: Announcements
) -> None:
    tokens = await domain.login(deps, email="me@example.com", password=PASSWORD)
    other = await domain.login(deps, email="me@example.com", password=PASSWORD)
    principal, token, expires = await domain.authenticate(deps, credential=tokens.access)
    assert principal.session and token == tokens.access
    assert abs((expires - tokens.access_expires).total_seconds()) < 1  # the token's own expiry, not a guess

    await domain.logout(deps, refresh_token=tokens.refresh)

    assert (await _refused(deps, tokens.access)).reason == R.TOKEN_INVALID
    assert announced.sessions == [str(principal.session_id)]
    await domain.authenticate(deps, credential=other.access)  # another login is untouched


async def test_reusing_a_refresh_token_kills_every_access_token_of_the_chain(
    deps: domain.Deps, announced: Announcements
) -> None:
    first = await domain.login(deps, email="me@example.com", password=PASSWORD)
    second = await domain.refresh(deps, refresh_token=first.refresh)
    for tokens in (first, second):
        await domain.authenticate(deps, credential=tokens.access)

    with pytest.raises(Unauthenticated):
        await domain.refresh(deps, refresh_token=first.refresh)  # a second use: the chain was stolen

    for tokens in (first, second):
        assert (await _refused(deps, tokens.access)).reason == R.TOKEN_INVALID
    assert len(announced.sessions) == 1


async def test_a_session_token_without_a_session_is_refused(deps: domain.Deps) -> None:
    """A session token that names no login (or one auth never issued) cannot be checked, so it is refused."""
    account = await domain.find_account(deps.sessions, email="me@example.com")
    bare = Principal(account_id=account.id, scopes=frozenset(domain.ALL_SCOPES), session=True)
    unknown = Principal(account_id=account.id, scopes=bare.scopes, session=True, session_id=uuid.uuid4())
    for principal in (bare, unknown):
        assert (await _refused(deps, deps.signer.issue(principal)[0])).reason == R.TOKEN_INVALID


async def test_a_resolver_that_missed_the_broadcast_refuses_the_token_within_its_ttl(deps: domain.Deps) -> None:
    clock = Clock()
    resolver = _resolver(deps, clock, ttl=10.0)
    tokens = await domain.login(deps, email="me@example.com", password=PASSWORD)
    assert (await resolver.resolve(tokens.access)).principal.session

    await domain.logout(deps, refresh_token=tokens.refresh)  # the broadcast never reaches this resolver

    clock.now += 10.0
    with pytest.raises(Unauthenticated):
        await resolver.resolve(tokens.access)


async def test_a_busy_token_is_rechecked_in_the_background_and_dropped(deps: domain.Deps) -> None:
    clock = Clock()
    resolver = _resolver(deps, clock, ttl=10.0)
    tokens = await domain.login(deps, email="me@example.com", password=PASSWORD)
    await resolver.resolve(tokens.access)
    await domain.logout(deps, refresh_token=tokens.refresh)

    clock.now += 6.0  # past half the ttl: served once more while auth is asked again
    await resolver.resolve(tokens.access)
    deadline = time.monotonic() + 5
    while True:
        try:
            await resolver.resolve(tokens.access)
        except Unauthenticated:
            break
        assert time.monotonic() < deadline, "the background check never dropped the revoked session"
        await asyncio.sleep(0.01)  # lets the background check run


async def test_a_resolver_started_after_the_logout_refuses_at_once(deps: domain.Deps) -> None:
    tokens = await domain.login(deps, email="me@example.com", password=PASSWORD)
    await domain.logout(deps, refresh_token=tokens.refresh)
    with pytest.raises(Unauthenticated):
        await _resolver(deps, Clock()).resolve(tokens.access)
