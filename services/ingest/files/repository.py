"""File queries; they never commit (the use case owns the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.errors import NotFound, R
from services.ingest.models import FileContent, StoredFile

ACCESS_COUNTERS = ("download_count", "stream_count", "signed_count")


def not_found() -> NotFound:
    """The one answer for a missing file, a malformed id and another account's file alike."""
    return NotFound("No such file.", reason=R.FILE_NOT_FOUND)


def parse_id(file_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(file_id)
    except ValueError:
        raise not_found() from None


async def account_file(session: AsyncSession, account_id: uuid.UUID, file_id: str, *, lock: bool = False) -> StoredFile:
    """The account's file; NotFound for anyone else's."""
    found = await session.get(StoredFile, parse_id(file_id), with_for_update=lock)
    if found is None or found.account_id != account_id:
        raise not_found()
    return found


async def content(session: AsyncSession, sha256: str, *, lock: bool = False) -> FileContent | None:
    query = select(FileContent).where(FileContent.sha256 == sha256)
    return (await session.exec(query.with_for_update() if lock else query)).first()


async def account_has(session: AsyncSession, account_id: uuid.UUID, sha256: str) -> bool:
    query = select(StoredFile.id).where(StoredFile.account_id == account_id, StoredFile.sha256 == sha256).limit(1)
    return (await session.exec(query)).first() is not None


async def list_files(
    session: AsyncSession, account_id: uuid.UUID, *, file_type: str | None, offset: int, limit: int
) -> tuple[Sequence[StoredFile], int]:
    """A page of the account's files, newest first, and how many match."""
    where = [col(StoredFile.account_id) == account_id]
    if file_type:
        where.append(col(StoredFile.file_type) == file_type)
    query = select(StoredFile).where(*where).order_by(col(StoredFile.created_at).desc(), col(StoredFile.id))
    files = (await session.exec(query.offset(offset).limit(limit))).all()
    total = (await session.exec(select(func.count()).select_from(StoredFile).where(*where))).one()
    return files, int(total)


async def matching(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    created_before: datetime | None,
    file_type: str | None,
    limit: int,
) -> tuple[Sequence[StoredFile], int]:
    """The account's oldest files matching the criteria (up to `limit`), and how many match in all."""
    where = [col(StoredFile.account_id) == account_id]
    if created_before is not None:
        where.append(col(StoredFile.created_at) < created_before)
    if file_type:
        where.append(col(StoredFile.file_type) == file_type)
    query = select(StoredFile).where(*where).order_by(col(StoredFile.created_at), col(StoredFile.id)).limit(limit)
    files = (await session.exec(query.with_for_update())).all()
    total = (await session.exec(select(func.count()).select_from(StoredFile).where(*where))).one()
    return files, int(total)


async def count_access(session: AsyncSession, account_id: uuid.UUID, file_id: str, counter: str, at: datetime) -> None:
    """Adds one to a counter of the account's file, in the database (concurrent accesses all count)."""
    column = getattr(StoredFile, counter)
    statement = (
        update(StoredFile)
        .where(col(StoredFile.id) == parse_id(file_id), col(StoredFile.account_id) == account_id)
        .values({counter: column + 1, "last_accessed_at": at})
    )
    await session.exec(statement)


@dataclass(frozen=True)
class Usage:
    by_type: list[tuple[str, int, int]]  # (file type, files, bytes)
    distinct: int  # contents
    stored: int  # bytes, each content once


async def usage(session: AsyncSession, account_id: uuid.UUID) -> Usage:
    mine = col(StoredFile.account_id) == account_id
    rows = await session.exec(
        select(StoredFile.file_type, func.count(), func.coalesce(func.sum(StoredFile.size), 0))
        .where(mine)
        .group_by(col(StoredFile.file_type))
        .order_by(col(StoredFile.file_type))
    )
    by_type = [(str(kind), int(count), int(size)) for kind, count, size in rows.all()]
    contents = (
        select(StoredFile.sha256, func.max(StoredFile.size).label("size"))
        .where(mine)
        .group_by(col(StoredFile.sha256))
        .subquery()
    )
    distinct, stored = (
        await session.exec(select(func.count(), func.coalesce(func.sum(contents.c.size), 0)).select_from(contents))
    ).one()
    return Usage(by_type, int(distinct), int(stored))
