"""Login sessions: a short-lived access token and a rotating refresh token chain.

Every token of one login carries the chain's id (its family). Revoking the chain (a logout, or a
refresh token used twice) ends its access tokens too: auth refuses them from then on, and the
revocation is broadcast so every cache of them drops them at once.
"""

from __future__ import annotations

import hashlib
import logging
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

logger = logging.getLogger(__name__)

_PREFIX = "rt_"


@dataclass(frozen=True)
class Tokens:
    access: str
    access_expires: datetime
    refresh: str
    refresh_expires: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_principal(account: Account, session_id: uuid.UUID | None = None) -> Principal:
    """A logged-in user may do everything its account may: every scope (tokens:write too: it is the
    account's owner, not a key handed to a script), and manage its keys."""
    return Principal(
        account_id=account.id, scopes=frozenset(ALL_SCOPES), role=account.role, session=True, session_id=session_id
    )


def _issue(deps: Deps, account: Account, family: uuid.UUID, now: datetime) -> tuple[Tokens, RefreshToken]:
    principal = session_principal(account, family)
    access, access_expires = deps.signer.issue(principal, now=now, ttl=deps.access_ttl)
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
        family = row.family_id
        if not await repository.family_is_live(session=session, family_id=family):
            # A link minted while the chain was being revoked: the chain is dead all the same.
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
        await _announce(deps, family)
        raise Unauthenticated("The refresh token was already used; sign in again.", reason=R.TOKEN_INVALID)
    return tokens


async def logout(deps: Deps, *, refresh_token: str) -> None:
    """Revokes the refresh token's chain and its access tokens (an unknown token is already as good as
    revoked). Logging out twice broadcasts again: a retry after a lost broadcast repairs it."""
    async with deps.sessions.begin() as session:
        row = await repository.get_refresh_by_hash(session=session, token_hash=_hash(refresh_token))
        if row is None:
            return
        # Waits for a refresh of any token of the chain in flight, so its successor is revoked too.
        await repository.lock_family(session=session, family_id=row.family_id)
        await repository.revoke_family(session=session, family_id=row.family_id, at=utcnow())
    await _announce(deps, row.family_id)


async def check_session(deps: Deps, principal: Principal) -> None:
    """Unauthenticated unless the access token's login is still live (not logged out, not revoked)."""
    if principal.session_id is None:
        # Names no login, so nothing could ever revoke it: not accepted (a token from before logins
        # were named; its holder refreshes or signs in again).
        raise Unauthenticated("The access token names no login: sign in again.", reason=R.TOKEN_INVALID)
    async with deps.sessions.begin() as session:
        live = await repository.family_is_live(session=session, family_id=principal.session_id)
    if not live:
        raise Unauthenticated("This login has ended: sign in again.", reason=R.TOKEN_INVALID)


async def _announce(deps: Deps, family: uuid.UUID) -> None:
    """Tells every cache; auth itself refuses the chain's tokens already, whatever becomes of this."""
    try:
        await deps.announce_session_revoked(str(family))
    except Exception:
        # Not the caller's failure: the revocation is committed, and the other processes stop
        # accepting the chain's access tokens within their cache time anyway.
        logger.exception("could not broadcast the revocation of login %s", family)
