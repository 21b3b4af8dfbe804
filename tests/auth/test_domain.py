"""Auth use cases on a real database: keys are shown once, stored hashed, checked on every use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from sqlmodel import select

from services.auth import domain
from services.auth.models import ApiKey, AuthTable
from services.common.clock import utcnow
from services.common.config import BaseServiceSettings
from services.common.db import Sessions, open_database
from services.common.errors import AlreadyExists, InvalidArgument, R, Unauthenticated
from services.common.identity import TokenSigner


@pytest.fixture
async def deps(tmp_path: Path, database_url: str | None) -> AsyncIterator[domain.Deps]:
    settings = BaseServiceSettings(data_dir=tmp_path, database_url=database_url)
    async with open_database(settings.database_url_for("auth"), AuthTable.metadata) as sessions:
        yield domain.Deps(sessions=sessions, signer=TokenSigner(b"platform-key"))


async def _rows(sessions: Sessions) -> list[ApiKey]:
    async with sessions.begin() as session:
        return list((await session.exec(select(ApiKey))).all())


async def test_first_run_creates_one_admin_key_only_once(deps: domain.Deps) -> None:
    issued = await domain.bootstrap_admin(deps)
    assert issued is not None and issued.raw.startswith("cvr_") and len(issued.raw) > 40
    assert await domain.bootstrap_admin(deps) is None
    principal, token, _ = await domain.authenticate(deps, credential=issued.raw)
    assert principal.role == "ADMIN" and principal.scopes == frozenset(domain.ALL_SCOPES)
    assert deps.signer.verify(token) == principal


async def test_keys_are_stored_only_as_hashes(deps: domain.Deps) -> None:
    account = await domain.create_account(deps, email="Dev@Example.com")
    issued = await domain.create_api_key(deps, account_id=account.id, name="ci", scopes=["jobs:read"])
    [row] = await _rows(deps.sessions)
    assert row.key_hash == domain.hash_key(issued.raw) != issued.raw
    assert issued.raw not in repr(row.model_dump())
    assert row.prefix == issued.raw[:12] and row.scopes == ["jobs:read"]
    with pytest.raises(AlreadyExists):
        await domain.create_account(deps, email="dev@example.com")


async def test_authenticate_refuses_unknown_malformed_and_expired_keys(deps: domain.Deps) -> None:
    account = await domain.create_account(deps, email="a@example.com")
    issued = await domain.create_api_key(deps, account_id=account.id, name="short", expires_in_days=1)
    principal, _, expires = await domain.authenticate(deps, credential=issued.raw)
    assert principal.account_id == account.id
    assert expires <= utcnow() + timedelta(minutes=5)
    for credential, reason in (("cvr_unknown", R.API_KEY_INVALID), ("nope", R.TOKEN_INVALID), ("", R.TOKEN_INVALID)):
        with pytest.raises(Unauthenticated) as refused:
            await domain.authenticate(deps, credential=credential)
        assert refused.value.reason == reason
    later = utcnow() + timedelta(days=2)
    with mock.patch("services.auth.domain.keys.utcnow", return_value=later), pytest.raises(Unauthenticated) as expired:
        await domain.authenticate(deps, credential=issued.raw)
    assert expired.value.reason == R.API_KEY_EXPIRED


async def test_use_is_recorded_and_bad_requests_are_refused(deps: domain.Deps) -> None:
    account = await domain.create_account(deps, email="b@example.com")
    issued = await domain.create_api_key(deps, account_id=account.id, name="k")
    await domain.authenticate(deps, credential=issued.raw)
    [row] = await _rows(deps.sessions)
    assert row.last_used_at is not None
    with pytest.raises(InvalidArgument):
        await domain.create_api_key(deps, account_id=account.id, name="k", scopes=["jobs:everything"])
    with pytest.raises(InvalidArgument):
        await domain.create_api_key(deps, account_id=account.id, name="k", expires_in_days=400)
