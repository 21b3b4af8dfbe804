"""Login sessions: a short-lived access token and a rotating refresh token chain."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from services.auth import repository
from services.auth.domain.accounts import verify_password
from services.auth.domain.deps import ALL_SCOPES, Deps
from services.auth.models import Account, RefreshToken
from services.common.clock import utcnow
from services.common.errors import R, Unauthenticated
from services.common.identity import Principal

_PREFIX = "rt_"


@dataclass(frozen=True)
class Tokens:
    access: str
    access_expires: datetime
    refresh: str
    refresh_expires: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_principal(account: Account) -> Principal:
    """A logged-in user may do everything its account may: every scope, and manage its keys."""
    return Principal(account_id=account.id, scopes=frozenset(ALL_SCOPES), role=account.role, session=True)


def _issue(deps: Deps, account: Account, family: uuid.UUID, now: datetime) -> tuple[Tokens, RefreshToken]:
    access, access_expires = deps.signer.issue(session_principal(account), now=now, ttl=deps.access_ttl)
    raw = _PREFIX + secrets.token_urlsafe(32)
    row = RefreshToken(
        account_id=account.id,
        family_id=family,
        token_hash=_hash(raw),
        created_at=now,
        expires_at=now + deps.refresh_ttl,
    )
    return Tokens(access, access_expires, raw, row.expires_at), row


async def login(deps: Deps, *, email: str, password: str) -> Tokens:
    account = await verify_password(deps, email=email, password=password)
    now = utcnow()
    tokens, row = _issue(deps, account, uuid.uuid4(), now)
    async with deps.sessions.begin() as session:
        session.add(row)
        stored = await repository.get_account(session=session, account_id=account.id)
        if stored is not None:
            stored.last_sign_in_at = now
            session.add(stored)
    return tokens


async def refresh(deps: Deps, *, refresh_token: str) -> Tokens:
    """Spends the refresh token for a new pair; a second use revokes its whole chain."""
    now = utcnow()
    reused = False
    async with deps.sessions.begin() as session:
        row = await repository.get_refresh_by_hash(session=session, token_hash=_hash(refresh_token), lock=True)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise Unauthenticated("The refresh token is not valid.", reason=R.TOKEN_INVALID)
        if row.spent_at is not None:
            # Spent before: someone else holds the chain. Cut it off for everyone.
            await repository.revoke_family(session=session, family_id=row.family_id, at=now)
            reused = True
        else:
            account = await repository.get_account(session=session, account_id=row.account_id)
            if account is None:
                raise Unauthenticated("The account no longer exists.", reason=R.USER_NOT_FOUND)
            row.spent_at = now
            session.add(row)
            tokens, successor = _issue(deps, account, row.family_id, now)
            session.add(successor)
    if reused:
        raise Unauthenticated("The refresh token was already used; sign in again.", reason=R.TOKEN_INVALID)
    return tokens


async def logout(deps: Deps, *, refresh_token: str) -> None:
    """Revokes the refresh token's chain (an unknown token is already as good as revoked)."""
    async with deps.sessions.begin() as session:
        row = await repository.get_refresh_by_hash(session=session, token_hash=_hash(refresh_token))
        if row is not None:
            # Waits for a refresh of any token of the chain in flight, so its successor is revoked too.
            await repository.lock_family(session=session, family_id=row.family_id)
            await repository.revoke_family(session=session, family_id=row.family_id, at=utcnow())
