"""Keys made without a scope list get every scope but tokens:write; the first admin key keeps them all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.auth import domain
from services.auth.models import AuthTable
from services.common.config import BaseServiceSettings
from services.common.db import open_database
from services.common.identity import TokenSigner


@pytest.fixture
async def deps(tmp_path: Path, database_url: str | None) -> AsyncIterator[domain.Deps]:
    settings = BaseServiceSettings(data_dir=tmp_path, database_url=database_url)
    async with open_database(settings.database_url_for("auth"), AuthTable.metadata) as sessions:
        yield domain.Deps(sessions=sessions, signer=TokenSigner(b"platform-key"))


async def test_a_key_made_by_default_cannot_move_credits(deps: domain.Deps) -> None:
    account = await domain.create_account(deps, email="dev@example.com")
    issued = await domain.create_api_key(deps, account_id=account.id, name="ci")
    principal, _, _ = await domain.authenticate(deps, credential=issued.raw)
    assert "tokens:write" not in principal.scopes
    assert principal.scopes == frozenset(domain.ALL_SCOPES) - {"tokens:write"}
    assert set(domain.DEFAULT_SCOPES) == set(domain.ALL_SCOPES) - {"tokens:write"}


async def test_tokens_write_is_granted_when_asked_for(deps: domain.Deps) -> None:
    account = await domain.create_account(deps, email="billing@example.com")
    issued = await domain.create_api_key(deps, account_id=account.id, name="billing", scopes=["tokens:write"])
    principal, _, _ = await domain.authenticate(deps, credential=issued.raw)
    assert principal.scopes == {"tokens:write"}


async def test_the_first_admin_key_and_login_sessions_keep_every_scope(deps: domain.Deps) -> None:
    admin = await domain.bootstrap_admin(deps)
    assert admin is not None and set(admin.key.scopes) == set(domain.ALL_SCOPES)
    await domain.create_account(deps, email="owner@example.com", password="correct horse battery")
    tokens = await domain.login(deps, email="owner@example.com", password="correct horse battery")
    assert "tokens:write" in deps.signer.verify(tokens.access).scopes  # the account's owner, logged in
