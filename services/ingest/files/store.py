"""Writes that move bytes: registering staged uploads, deleting files and cleaning up.

The content row of a digest is locked while its bytes move (SQLite: every write transaction is
BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE), so a delete of the last reference and a new
upload of the same content never interleave. Retired content is renamed aside inside the
transaction and put back if the commit fails: bytes a committed record references never go.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.clock import utcnow
from services.common.errors import Conflict, FieldViolation, InvalidArgument, R
from services.common.identity import Principal
from services.ingest.files import kinds, repository, storage
from services.ingest.files.deps import FileDeps
from services.ingest.models import FileContent, StoredFile

_SUBDIRECTORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*(/[A-Za-z0-9][A-Za-z0-9 ._-]*)*$")
MAX_DESCRIPTION = 2000


@dataclass(frozen=True)
class NewFile:
    staged: storage.Staged
    filename: str
    content_type: str
    file_type: str  # "" to decide from the content type
    subdirectory: str = ""
    description: str = ""


def check_details(index: int, subdirectory: str, description: str) -> None:
    problems = []
    if subdirectory and (len(subdirectory) > 255 or not _SUBDIRECTORY.fullmatch(subdirectory)):
        problems.append(FieldViolation(f"files.{index}.subdirectory", "must be a relative path of plain names"))
    if len(description) > MAX_DESCRIPTION:
        problems.append(FieldViolation(f"files.{index}.description", f"must be at most {MAX_DESCRIPTION} characters"))
    if problems:
        raise InvalidArgument("Request validation failed", reason=R.REQUEST_INVALID, violations=problems)


async def register(deps: FileDeps, principal: Principal, uploads: Sequence[NewFile]) -> list[StoredFile]:
    """Records every upload, or none; staged bytes move to their content address or are dropped."""
    for index, upload in enumerate(uploads):
        check_details(index, upload.subdirectory, upload.description)
        if await asyncio.to_thread(storage.staged_size, deps.blobs, upload.staged.key) != upload.staged.size:
            raise InvalidArgument("The upload is not in the blob store.", reason=R.FILE_NOT_FOUND)
    for _ in range(3):  # PostgreSQL: a concurrent first upload of the same content may insert it first
        try:
            records, surplus = await _register_once(deps, principal, uploads)
        except IntegrityError:
            continue
        await asyncio.to_thread(deps.blobs.delete_many, surplus)
        return records
    raise Conflict("The upload collided with another; try again.", reason=R.ALREADY_EXISTS)


async def _register_once(
    deps: FileDeps, principal: Principal, uploads: Sequence[NewFile]
) -> tuple[list[StoredFile], list[str]]:
    now, surplus = utcnow(), []
    records: dict[int, StoredFile] = {}
    async with deps.sessions.begin() as session:
        for index, upload in sorted(enumerate(uploads), key=lambda item: item[1].staged.sha256):  # one lock order
            staged = upload.staged
            stored = await repository.content(session, staged.sha256, lock=True)
            if stored is None:
                if await asyncio.to_thread(deps.blobs.stat, staged.key) is not None:  # moved by an earlier try?
                    await asyncio.to_thread(storage.adopt, deps.blobs, staged)
                session.add(
                    FileContent(
                        sha256=staged.sha256,
                        blob_key=storage.content_key(staged.sha256),
                        size=staged.size,
                        references=1,
                        created_at=now,
                    )
                )
            else:
                stored.references += 1
                session.add(stored)
                if await asyncio.to_thread(deps.blobs.stat, stored.blob_key) is None:  # lost: these bytes heal it
                    await asyncio.to_thread(storage.adopt, deps.blobs, staged)
                else:
                    surplus.append(staged.key)
            content_type = kinds.content_type_of(upload.content_type, upload.filename)
            record = StoredFile(
                id=uuid.uuid4(),
                account_id=principal.account_id,
                filename=kinds.clean_filename(upload.filename),
                content_type=content_type,
                file_type=upload.file_type or kinds.file_type_of(content_type),
                subdirectory=upload.subdirectory,
                description=upload.description,
                size=staged.size,
                sha256=staged.sha256,
                deduplicated=await repository.account_has(session, principal.account_id, staged.sha256),
                created_at=now,
                updated_at=now,
            )
            session.add(record)
            records[index] = record
            await session.flush()  # the next upload of the same content sees this one
    return [records[index] for index in range(len(uploads))], surplus


async def delete(deps: FileDeps, principal: Principal, file_id: str) -> tuple[StoredFile, bool]:
    """Removes the account's file; True when its content went too (no other record referenced it)."""
    retired: list[tuple[str, str | None]] = []
    try:
        async with deps.sessions.begin() as session:
            record = await repository.account_file(session, principal.account_id, file_id, lock=True)
            await _unlink(deps, session, [record], retired)
    except BaseException:
        await _restore(deps, retired)
        raise
    await _purge(deps, retired)
    return record, bool(retired)


async def cleanup(
    deps: FileDeps,
    principal: Principal,
    *,
    created_before: datetime | None,
    file_type: str | None,
    dry_run: bool,
    limit: int,
) -> tuple[Sequence[StoredFile], int]:
    """Deletes (or, in a dry run, lists) the account's oldest matching files; also how many remain."""
    retired: list[tuple[str, str | None]] = []
    try:
        async with deps.sessions.begin() as session:
            found, total = await repository.matching(
                session, principal.account_id, created_before=created_before, file_type=file_type, limit=limit
            )
            if not dry_run:
                await _unlink(deps, session, found, retired)
    except BaseException:
        await _restore(deps, retired)
        raise
    await _purge(deps, retired)
    return found, total - (0 if dry_run else len(found))


async def _unlink(
    deps: FileDeps, session: AsyncSession, records: Sequence[StoredFile], retired: list[tuple[str, str | None]]
) -> None:
    """Deletes the records in the session; content left without a reference is renamed aside (into `retired`)."""
    for record in sorted(records, key=lambda r: r.sha256):  # one lock order for every transaction
        await session.delete(record)
        stored = await repository.content(session, record.sha256, lock=True)
        if stored is None:
            continue
        stored.references -= 1
        if stored.references > 0:
            session.add(stored)
            continue
        await session.delete(stored)
        retired.append((record.sha256, await asyncio.to_thread(storage.retire, deps.blobs, record.sha256)))
    await session.flush()


async def _restore(deps: FileDeps, retired: list[tuple[str, str | None]]) -> None:
    for sha256, trash in retired:
        if trash is not None:
            await asyncio.to_thread(storage.restore, deps.blobs, sha256, trash)


async def _purge(deps: FileDeps, retired: list[tuple[str, str | None]]) -> None:
    for sha256, trash in retired:
        await asyncio.to_thread(storage.purge, deps.blobs, sha256, trash)
