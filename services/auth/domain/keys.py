"""API keys: minted once, stored as hashes, resolved on use, revoked everywhere at once."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.auth import repository
from services.auth.domain.accounts import create_account
from services.auth.domain.deps import ALL_SCOPES, DEFAULT_SCOPES, Deps
from services.auth.domain.sessions import check_session
from services.auth.models import ApiKey
from services.common.clock import utcnow
from services.common.credentials import KEY_PREFIX
from services.common.errors import FieldViolation, InvalidArgument, NotFound, R, Unauthenticated
from services.common.identity import Principal

_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    """A new key: its row and the raw value, which exists nowhere else and is shown once."""

    key: ApiKey
    raw: str


def hash_key(raw: str) -> str:
    """SHA-256 of a key: keys are 256-bit random, so a fast hash resists guessing."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in ALL_SCOPES]
    if unknown:
        raise InvalidArgument(
            f"Unknown scopes: {', '.join(unknown)}.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation("scopes", f"must be among {', '.join(ALL_SCOPES)}")],
        )
    return chosen


def _parse_id(key_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(key_id)
    except ValueError as exc:
        raise NotFound("No such API key.", reason=R.API_KEY_NOT_FOUND) from exc


async def create_api_key(
    deps: Deps,
    *,
    account_id: uuid.UUID,
    name: str,
    scopes: Iterable[str] = DEFAULT_SCOPES,
    expires_in_days: int | None = None,
) -> IssuedKey:
    """Mints a key (by default without tokens:write); only its hash and display prefix are stored."""
    violations = []
    if not name.strip() or len(name) > 255:
        violations.append(FieldViolation("name", "must be 1 to 255 characters"))
    if expires_in_days is not None and not 1 <= expires_in_days <= 365:
        violations.append(FieldViolation("expiresInDays", "must be between 1 and 365"))
    if violations:
        raise InvalidArgument("The API key request is not valid.", reason=R.BODY_INVALID, violations=violations)
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    key = ApiKey(
        account_id=account_id,
        name=name.strip(),
        prefix=raw[:12],
        key_hash=hash_key(raw),
        scopes=_check_scopes(scopes),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    async with deps.sessions.begin() as session:
        if await repository.get_account(session=session, account_id=account_id) is None:
            raise NotFound("No such account.", reason=R.ACCOUNT_NOT_FOUND)
        session.add(key)
    return IssuedKey(key=key, raw=raw)


async def list_api_keys(deps: Deps, *, account_id: uuid.UUID) -> Sequence[ApiKey]:
    async with deps.sessions.begin() as session:
        return await repository.list_keys(session=session, account_id=account_id)


async def get_api_key(deps: Deps, *, account_id: uuid.UUID, key_id: str) -> ApiKey:
    """The account's key; another account's (or a deleted) key is not found."""
    async with deps.sessions.begin() as session:
        key = await repository.get_account_key(session=session, key_id=_parse_id(key_id), account_id=account_id)
    if key is None:
        raise NotFound("No such API key.", reason=R.API_KEY_NOT_FOUND)
    return key


async def delete_api_key(deps: Deps, *, account_id: uuid.UUID, key_id: str) -> None:
    """Revokes the key for good, then tells every cache to drop it."""
    async with deps.sessions.begin() as session:
        key = await repository.get_account_key(session=session, key_id=_parse_id(key_id), account_id=account_id)
        if key is None:
            raise NotFound("No such API key.", reason=R.API_KEY_NOT_FOUND)
        key.revoked_at = utcnow()
        session.add(key)
    await deps.announce_revoked(str(key.id))


async def authenticate(deps: Deps, *, credential: str) -> tuple[Principal, str, datetime]:
    """The principal behind a raw API key (or an access token), with a signed token carrying it."""
    if not credential.startswith(KEY_PREFIX):
        principal, expires = deps.signer.verify_expiring(credential)
        if principal.session:
            await check_session(deps, principal)  # an access token lives only as long as its login
        return principal, credential, expires
    now = utcnow()
    async with deps.sessions.begin() as session:
        key = await repository.get_key_by_hash(session=session, key_hash=hash_key(credential))
        if key is None or key.revoked_at is not None:
            raise Unauthenticated("The API key is not valid.", reason=R.API_KEY_INVALID)
        if key.expires_at is not None and key.expires_at <= now:
            raise Unauthenticated("The API key has expired.", reason=R.API_KEY_EXPIRED)
        account = await repository.get_account(session=session, account_id=key.account_id)
        if account is None:
            raise Unauthenticated("The API key's account no longer exists.", reason=R.USER_NOT_FOUND)
        if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
            key.last_used_at = now
            session.add(key)
    principal = Principal(account_id=account.id, scopes=frozenset(key.scopes), role=account.role, key_id=key.id)
    token, expires = deps.signer.issue(principal, now=now, not_after=key.expires_at)
    return principal, token, expires


async def bootstrap_admin(deps: Deps, *, email: str = "admin@localhost") -> IssuedKey | None:
    """On a fresh platform, the first (admin) account and a key with every scope; else None.

    tokens:write included: it is the operator's own key, shown once at first run, and the one way
    to reach every route before anyone has logged in."""
    async with deps.sessions.begin() as session:
        if await repository.count_accounts(session=session) > 0:
            return None
    account = await create_account(deps, email=email, role="ADMIN", email_verified=True)
    return await create_api_key(deps, account_id=account.id, name="admin (first run)", scopes=ALL_SCOPES)
