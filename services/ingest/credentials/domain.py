"""Saved Drive credentials: create, list, delete, and seal a copy for a job that names one (services/ingest/refs.py).

A key is sealed under a context naming its own row, so a sealed key copied into another row does not
open. A job gets a fresh token sealed for customer storage (the context jobs, ingest and workers
open), which jobs strips from the job when it ends, as it does a token given in the request.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.clock import utcnow
from services.common.db import Sessions
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, R
from services.common.identity import Principal
from services.common.secretbox import CUSTOMER_CREDENTIALS, SecretBox
from services.ingest.credentials import keys
from services.ingest.models import DriveCredential

MAX_NAME = 255


@dataclass(frozen=True)
class CredentialDeps:
    sessions: Sessions
    box: SecretBox
    max_per_account: int = 100


@dataclass(frozen=True)
class Sealed:
    """A credential as a job carries it."""

    token: str
    client_email: str


def _context(credential_id: uuid.UUID) -> str:
    return f"saved-drive-key/{credential_id}"


def _not_found() -> NotFound:
    """The one answer for a missing credential, a malformed id and another account's alike."""
    return NotFound("No such Google Drive credential.", reason=R.CREDENTIAL_NOT_FOUND)


async def _owned(session: AsyncSession, principal: Principal, credential_id: str) -> DriveCredential:
    try:
        found = await session.get(DriveCredential, uuid.UUID(credential_id))
    except ValueError:
        raise _not_found() from None
    if found is None or found.account_id != principal.account_id:
        raise _not_found()
    return found


async def create(deps: CredentialDeps, principal: Principal, *, name: str, key_json: str) -> DriveCredential:
    """Saves a service-account key (checked, then sealed) under name; at most max_per_account each."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidArgument(f"A credential's name is 1 to {MAX_NAME} characters.", reason=R.BODY_INVALID)
    key = keys.parse(key_json)
    record = DriveCredential(
        account_id=principal.account_id,
        name=name,
        client_email=key.client_email,
        project_id=key.project_id,
        sealed_key="",
        created_at=utcnow(),
    )
    record.sealed_key = deps.box.seal_json(key.info, context=_context(record.id))
    async with deps.sessions.begin() as session:
        count = (
            select(func.count())
            .select_from(DriveCredential)
            .where(col(DriveCredential.account_id) == principal.account_id)
        )
        if (await session.exec(count)).one() >= deps.max_per_account:
            raise FailedPrecondition(
                f"An account keeps at most {deps.max_per_account} Google Drive credentials; delete one first.",
                reason=R.CREDENTIAL_LIMIT_EXCEEDED,
            )
        session.add(record)
    return record


async def list_all(deps: CredentialDeps, principal: Principal) -> Sequence[DriveCredential]:
    """The account's credentials, newest first."""
    query = (
        select(DriveCredential)
        .where(col(DriveCredential.account_id) == principal.account_id)
        .order_by(col(DriveCredential.created_at).desc(), col(DriveCredential.id))
    )
    async with deps.sessions() as session:
        return (await session.exec(query)).all()


async def delete(deps: CredentialDeps, principal: Principal, credential_id: str) -> None:
    """Forgets the credential; jobs already accepted keep the copy they were given until they end."""
    async with deps.sessions.begin() as session:
        await session.delete(await _owned(session, principal, credential_id))


async def use(deps: CredentialDeps, principal: Principal, credential_id: str) -> Sealed:
    """The account's credential sealed for a job's Drive source or destination."""
    async with deps.sessions() as session:
        record = await _owned(session, principal, credential_id)
    info = deps.box.open_json(record.sealed_key, context=_context(record.id))
    token = deps.box.seal_json({"serviceAccount": info}, context=CUSTOMER_CREDENTIALS)
    return Sealed(token, record.client_email)
