"""Auth queries; they never commit (the use case owns the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Account, ApiKey, RefreshToken


async def get_account(*, session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def get_account_by_email(*, session: AsyncSession, email: str) -> Account | None:
    result = await session.exec(select(Account).where(Account.email == email))
    return result.first()


async def count_accounts(*, session: AsyncSession) -> int:
    result = await session.exec(select(func.count()).select_from(Account))
    return int(result.one())


async def list_accounts(*, session: AsyncSession) -> Sequence[Account]:
    result = await session.exec(select(Account).order_by(col(Account.created_at)))
    return result.all()


async def get_key_by_hash(*, session: AsyncSession, key_hash: str) -> ApiKey | None:
    result = await session.exec(select(ApiKey).where(ApiKey.key_hash == key_hash))
    return result.first()


async def get_account_key(*, session: AsyncSession, key_id: uuid.UUID, account_id: uuid.UUID) -> ApiKey | None:
    """The key if it belongs to the account and is not deleted (another account's is not found)."""
    key = await session.get(ApiKey, key_id)
    if key is None or key.account_id != account_id or key.revoked_at is not None:
        return None
    return key


async def list_keys(*, session: AsyncSession, account_id: uuid.UUID) -> Sequence[ApiKey]:
    query = (
        select(ApiKey)
        .where(ApiKey.account_id == account_id, col(ApiKey.revoked_at).is_(None))
        .order_by(col(ApiKey.created_at))
    )
    return (await session.exec(query)).all()


async def get_refresh_by_hash(*, session: AsyncSession, token_hash: str, lock: bool = False) -> RefreshToken | None:
    """The token's row; `lock` holds it until commit, so two refreshes of one token take turns."""
    query = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    result = await session.exec(query.with_for_update() if lock else query)
    return result.first()


async def lock_family(*, session: AsyncSession, family_id: uuid.UUID) -> None:
    """Holds every token of a chain until commit (PostgreSQL; SQLite serializes writers anyway)."""
    await session.exec(select(RefreshToken.id).where(RefreshToken.family_id == family_id).with_for_update())


async def revoke_family(*, session: AsyncSession, family_id: uuid.UUID, at: datetime) -> None:
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=at)
    )


async def family_is_live(*, session: AsyncSession, family_id: uuid.UUID) -> bool:
    """Whether a chain exists and none of it is revoked (a revocation revokes the whole chain, so one
    revoked link is enough: it also covers a link minted while the chain was being revoked)."""
    query = select(func.count(), func.count(col(RefreshToken.revoked_at))).where(
        col(RefreshToken.family_id) == family_id
    )
    links, revoked = (await session.exec(query)).one()
    return int(links) > 0 and int(revoked) == 0
