"""Login sessions on a real database: argon2id passwords, one vague error, rotating refresh chains."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest

from services.auth import domain
from services.auth.models import Account, AuthTable
from services.common.clock import utcnow
from services.common.config import BaseServiceSettings
from services.common.db import open_database
from services.common.errors import DomainError, InvalidArgument, NotFound, R, Unauthenticated
from services.common.identity import TokenSigner

PASSWORD = "correct horse battery"


@pytest.fixture
async def deps(tmp_path: Path, database_url: str | None) -> AsyncIterator[domain.Deps]:
    settings = BaseServiceSettings(data_dir=tmp_path, database_url=database_url)
    async with open_database(settings.database_url_for("auth"), AuthTable.metadata) as sessions:
        yield domain.Deps(sessions=sessions, signer=TokenSigner(b"platform-key"))


async def _stored(deps: domain.Deps, email: str) -> Account:
    return await domain.find_account(deps.sessions, email=email)


async def _refused(call: Awaitable[object]) -> DomainError:
    """The Unauthenticated error the call raises (fails the test if it succeeds)."""
    with pytest.raises(Unauthenticated) as refused:
        await call
    return refused.value


async def test_passwords_are_stored_as_argon2id_only(deps: domain.Deps) -> None:
    await domain.create_account(deps, email="pw@example.com", password=PASSWORD)
    stored = await _stored(deps, "pw@example.com")
    assert stored.password_hash is not None and stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert PASSWORD not in repr(stored.model_dump())

    await domain.set_password(deps, email="PW@example.com", password="another password")
    changed = await _stored(deps, "pw@example.com")
    assert changed.password_hash is not None and changed.password_hash.startswith("$argon2id$")
    assert changed.password_hash != stored.password_hash and "another password" not in changed.password_hash
    await _refused(domain.login(deps, email="pw@example.com", password=PASSWORD))
    await domain.login(deps, email="pw@example.com", password="another password")
    with pytest.raises(NotFound):
        await domain.set_password(deps, email="nobody@example.com", password="another password")


@pytest.mark.parametrize("role", ["USER", "ADMIN"])
async def test_login_gives_a_session_with_every_scope_and_the_accounts_role(deps: domain.Deps, role: str) -> None:
    account = await domain.create_account(deps, email="me@example.com", password=PASSWORD, role=role)
    before = utcnow()
    tokens = await domain.login(deps, email="  Me@Example.com ", password=PASSWORD)
    principal = deps.signer.verify(tokens.access)
    assert principal.session is True and principal.key_id is None
    assert principal.account_id == account.id and principal.role == role
    assert principal.scopes == frozenset(domain.ALL_SCOPES)
    assert before + deps.access_ttl - timedelta(seconds=5) <= tokens.access_expires <= utcnow() + deps.access_ttl
    assert tokens.refresh != tokens.access and tokens.refresh_expires > tokens.access_expires


async def test_wrong_password_and_unknown_email_fail_alike(deps: domain.Deps) -> None:
    await domain.create_account(deps, email="known@example.com", password=PASSWORD)
    await domain.create_account(deps, email="keys-only@example.com")  # no password: API keys only
    wrong = await _refused(domain.login(deps, email="known@example.com", password=PASSWORD + "!"))
    unknown = await _refused(domain.login(deps, email="unknown@example.com", password=PASSWORD))
    keys_only = await _refused(domain.login(deps, email="keys-only@example.com", password=PASSWORD))
    assert (wrong.reason, wrong.message) == (unknown.reason, unknown.message) == (keys_only.reason, keys_only.message)
    assert type(wrong) is type(unknown) is type(keys_only)
    assert wrong.reason == R.USER_NOT_FOUND
    assert "known@example.com" not in wrong.message
    for failed in ("known@example.com", "keys-only@example.com"):
        assert (await _stored(deps, failed)).last_sign_in_at is None


async def test_short_passwords_are_refused(deps: domain.Deps) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await domain.create_account(deps, email="short@example.com", password="1234567")
    assert refused.value.reason == R.BODY_INVALID
    assert [v.field for v in refused.value.violations] == ["password"]
    with pytest.raises(NotFound):
        await _stored(deps, "short@example.com")  # nothing was created

    await domain.create_account(deps, email="short@example.com", password="12345678")  # 8 is enough
    before = (await _stored(deps, "short@example.com")).password_hash
    with pytest.raises(InvalidArgument) as refused:
        await domain.set_password(deps, email="short@example.com", password="1234567")
    assert refused.value.reason == R.BODY_INVALID
    assert (await _stored(deps, "short@example.com")).password_hash == before
    await domain.login(deps, email="short@example.com", password="12345678")


async def test_an_account_without_a_password_cannot_log_in(deps: domain.Deps) -> None:
    account = await domain.create_account(deps, email="robot@example.com")
    assert account.password_hash is None
    for attempt in ("", PASSWORD, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"):
        error = await _refused(domain.login(deps, email="robot@example.com", password=attempt))
        assert error.reason == R.USER_NOT_FOUND


async def test_refresh_rotates_the_refresh_token(deps: domain.Deps) -> None:
    account = await domain.create_account(deps, email="r@example.com", password=PASSWORD)
    first = await domain.login(deps, email="r@example.com", password=PASSWORD)
    second = await domain.refresh(deps, refresh_token=first.refresh)
    assert second.refresh != first.refresh
    principal = deps.signer.verify(second.access)
    assert principal.account_id == account.id and principal.session is True
    assert principal.scopes == frozenset(domain.ALL_SCOPES)
    third = await domain.refresh(deps, refresh_token=second.refresh)  # the new one works
    assert len({first.refresh, second.refresh, third.refresh}) == 3
    error = await _refused(domain.refresh(deps, refresh_token=first.refresh))  # the old one does not
    assert error.reason == R.TOKEN_INVALID
    for garbage in ("", "rt_unknown", third.access):
        assert (await _refused(domain.refresh(deps, refresh_token=garbage))).reason == R.TOKEN_INVALID


async def test_reusing_a_spent_refresh_token_revokes_the_chain(deps: domain.Deps) -> None:
    await domain.create_account(deps, email="stolen@example.com", password=PASSWORD)
    first = await domain.login(deps, email="stolen@example.com", password=PASSWORD)
    elsewhere = await domain.login(deps, email="stolen@example.com", password=PASSWORD)  # another chain
    second = await domain.refresh(deps, refresh_token=first.refresh)
    newest = await domain.refresh(deps, refresh_token=second.refresh)

    reused = await _refused(domain.refresh(deps, refresh_token=second.refresh))
    assert reused.reason == R.TOKEN_INVALID
    # The newest token of that chain (held by whoever rotated it) stops working too.
    assert (await _refused(domain.refresh(deps, refresh_token=newest.refresh))).reason == R.TOKEN_INVALID
    assert (await _refused(domain.refresh(deps, refresh_token=first.refresh))).reason == R.TOKEN_INVALID
    # Another login's chain is not touched.
    await domain.refresh(deps, refresh_token=elsewhere.refresh)


async def test_logout_revokes_the_chain(deps: domain.Deps) -> None:
    await domain.create_account(deps, email="bye@example.com", password=PASSWORD)
    first = await domain.login(deps, email="bye@example.com", password=PASSWORD)
    elsewhere = await domain.login(deps, email="bye@example.com", password=PASSWORD)
    second = await domain.refresh(deps, refresh_token=first.refresh)
    await domain.logout(deps, refresh_token=second.refresh)
    assert (await _refused(domain.refresh(deps, refresh_token=second.refresh))).reason == R.TOKEN_INVALID
    assert (await _refused(domain.refresh(deps, refresh_token=first.refresh))).reason == R.TOKEN_INVALID
    await domain.logout(deps, refresh_token=second.refresh)  # twice: nothing to do, no error
    await domain.logout(deps, refresh_token="rt_never-issued")
    await domain.refresh(deps, refresh_token=elsewhere.refresh)  # other sessions stay signed in


async def test_an_expired_refresh_token_is_refused(deps: domain.Deps) -> None:
    await domain.create_account(deps, email="late@example.com", password=PASSWORD)
    tokens = await domain.login(deps, email="late@example.com", password=PASSWORD)
    later = utcnow() + deps.refresh_ttl + timedelta(minutes=1)
    with mock.patch("services.auth.domain.sessions.utcnow", return_value=later):
        assert (await _refused(domain.refresh(deps, refresh_token=tokens.refresh))).reason == R.TOKEN_INVALID


async def test_login_records_the_sign_in(deps: domain.Deps) -> None:
    await domain.create_account(deps, email="seen@example.com", password=PASSWORD)
    assert (await _stored(deps, "seen@example.com")).last_sign_in_at is None
    before = utcnow()
    await domain.login(deps, email="seen@example.com", password=PASSWORD)
    first = (await _stored(deps, "seen@example.com")).last_sign_in_at
    assert first is not None and before <= first <= utcnow()
    await domain.login(deps, email="seen@example.com", password=PASSWORD)
    second = (await _stored(deps, "seen@example.com")).last_sign_in_at
    assert second is not None and second >= first
    account = await domain.get_account(deps, account_id=(await _stored(deps, "seen@example.com")).id)
    assert account.last_sign_in_at == second


async def test_concurrent_refreshes_with_one_token_never_both_succeed(deps: domain.Deps) -> None:
    """Racing the rightful holder is still a reuse: one refresh token never yields two live chains."""
    await domain.create_account(deps, email="race@example.com", password=PASSWORD)
    for _ in range(5):  # a few rounds: the interleaving is up to the event loop and the database
        tokens = await domain.login(deps, email="race@example.com", password=PASSWORD)
        results = await asyncio.gather(
            *(domain.refresh(deps, refresh_token=tokens.refresh) for _ in range(2)), return_exceptions=True
        )
        assert all(isinstance(r, domain.Tokens | Unauthenticated) for r in results), results
        winners = [r for r in results if isinstance(r, domain.Tokens)]
        assert len(winners) <= 1, "two concurrent refreshes of one token both got a new pair: two live chains"


async def test_a_refresh_racing_a_logout_leaves_no_live_token(deps: domain.Deps) -> None:
    """Once logout has returned, nothing issued from that chain works, even a pair minted meanwhile."""
    await domain.create_account(deps, email="racing-out@example.com", password=PASSWORD)
    for _ in range(5):
        tokens = await domain.login(deps, email="racing-out@example.com", password=PASSWORD)
        rotated, _ = await asyncio.gather(
            domain.refresh(deps, refresh_token=tokens.refresh),
            domain.logout(deps, refresh_token=tokens.refresh),
            return_exceptions=True,
        )
        if isinstance(rotated, domain.Tokens):
            error = await _refused(domain.refresh(deps, refresh_token=rotated.refresh))
            assert error.reason == R.TOKEN_INVALID
        else:
            assert isinstance(rotated, Unauthenticated), rotated
