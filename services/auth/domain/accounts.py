"""Accounts: creation, passwords (argon2id), lookup, the first admin."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from argon2.exceptions import InvalidHashError, VerificationError

from services.auth import repository
from services.auth.domain.deps import ROLES, Deps
from services.auth.models import Account
from services.common.clock import utcnow
from services.common.db import Sessions
from services.common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, R, Unauthenticated

MIN_PASSWORD = 8
_DUMMY_HASH: str | None = None  # verified against for unknown emails, so timing reveals nothing


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD or len(password) > 1024:
        raise InvalidArgument(
            f"A password needs {MIN_PASSWORD} to 1024 characters.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation("password", f"must be {MIN_PASSWORD} to 1024 characters")],
        )


async def create_account(
    deps: Deps, *, email: str, role: str = "USER", password: str | None = None, email_verified: bool = False
) -> Account:
    """A new account; the email must be unused."""
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or role not in ROLES:
        raise InvalidArgument("An account needs a valid email and a role of USER or ADMIN.", reason=R.BODY_INVALID)
    if password is not None:
        _check_password(password)
    hashed = await asyncio.to_thread(deps.hasher.hash, password) if password is not None else None
    async with deps.sessions.begin() as session:
        if await repository.get_account_by_email(session=session, email=email):
            raise AlreadyExists(f"An account with email {email} exists.")
        account = Account(
            email=email, role=role, password_hash=hashed, email_verified=email_verified, created_at=utcnow()
        )
        session.add(account)
    return account


async def set_password(deps: Deps, *, email: str, password: str) -> Account:
    _check_password(password)
    hashed = await asyncio.to_thread(deps.hasher.hash, password)
    async with deps.sessions.begin() as session:
        account = await repository.get_account_by_email(session=session, email=email.strip().lower())
        if account is None:
            raise NotFound(f"No account with email {email}.", reason=R.ACCOUNT_NOT_FOUND)
        account.password_hash = hashed
        session.add(account)
    return account


async def verify_password(deps: Deps, *, email: str, password: str) -> Account:
    """The account if the password matches; the same error (and about the same time) otherwise."""
    global _DUMMY_HASH
    async with deps.sessions.begin() as session:
        account = await repository.get_account_by_email(session=session, email=email.strip().lower())
    if _DUMMY_HASH is None:
        _DUMMY_HASH = await asyncio.to_thread(deps.hasher.hash, uuid.uuid4().hex)
    stored = account.password_hash if account is not None and account.password_hash else _DUMMY_HASH
    try:
        await asyncio.to_thread(deps.hasher.verify, stored, password)
        ok = account is not None and account.password_hash is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None:
        raise Unauthenticated("The email or password is not right.", reason=R.USER_NOT_FOUND)
    return account


async def list_accounts(sessions: Sessions) -> Sequence[Account]:
    async with sessions.begin() as session:
        return await repository.list_accounts(session=session)


async def find_account(sessions: Sessions, *, email: str) -> Account:
    async with sessions.begin() as session:
        account = await repository.get_account_by_email(session=session, email=email.strip().lower())
    if account is None:
        raise NotFound(f"No account with email {email}.", reason=R.ACCOUNT_NOT_FOUND)
    return account


async def get_account(deps: Deps, *, account_id: uuid.UUID) -> Account:
    async with deps.sessions.begin() as session:
        account = await repository.get_account(session=session, account_id=account_id)
    if account is None:
        raise NotFound("No such account.", reason=R.ACCOUNT_NOT_FOUND)
    return account
