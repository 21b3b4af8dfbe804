"""File use cases that read: records, listings, usage, what the content holds, thumbnails, access counts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf import json_format

from protos.common.v1 import media_pb2
from services.common import posters
from services.common.blobstore import open_local
from services.common.clock import utcnow
from services.common.errors import InvalidArgument, NotFound, R
from services.common.identity import Principal
from services.ingest.files import media, repository, storage
from services.ingest.files.deps import FileDeps
from services.ingest.models import StoredFile


async def get(deps: FileDeps, principal: Principal, file_id: str) -> StoredFile:
    async with deps.sessions() as session:
        return await repository.account_file(session, principal.account_id, file_id)


async def list_files(
    deps: FileDeps, principal: Principal, *, file_type: str | None, page: int, page_size: int
) -> tuple[Sequence[StoredFile], int]:
    page, page_size = max(page, 1), min(max(page_size, 1), 100)
    async with deps.sessions() as session:
        return await repository.list_files(
            session, principal.account_id, file_type=file_type, offset=(page - 1) * page_size, limit=page_size
        )


async def record_access(deps: FileDeps, principal: Principal, file_id: str, counter: str) -> StoredFile:
    """Counts one access of the account's file (NotFound for anyone else's) and returns it."""
    if counter not in repository.ACCESS_COUNTERS:
        raise InvalidArgument("Unknown kind of access.", reason=R.REQUEST_INVALID)
    async with deps.sessions.begin() as session:
        await repository.count_access(session, principal.account_id, file_id, counter, utcnow())
        return await repository.account_file(session, principal.account_id, file_id)


@dataclass(frozen=True)
class Stats:
    usage: repository.Usage

    @property
    def files(self) -> int:
        return sum(count for _, count, _ in self.usage.by_type)

    @property
    def logical(self) -> int:
        return sum(size for _, _, size in self.usage.by_type)


async def stats(deps: FileDeps, principal: Principal) -> Stats:
    async with deps.sessions() as session:
        return Stats(await repository.usage(session, principal.account_id))


@dataclass(frozen=True)
class Description:
    file: StoredFile
    probe: media_pb2.MediaProbe | None
    probe_error: str


async def describe(deps: FileDeps, principal: Principal, file_id: str) -> Description:
    """The file and the probe of its content (made once per content, then kept)."""
    async with deps.sessions() as session:
        record = await repository.account_file(session, principal.account_id, file_id)
        stored = await repository.content(session, record.sha256)
    if stored is None:
        raise repository.not_found()
    if stored.media is not None:
        return Description(record, json_format.ParseDict(stored.media, media_pb2.MediaProbe()), "")
    if stored.media_error is not None:
        return Description(record, None, stored.media_error)
    loop = asyncio.get_running_loop()
    try:
        async with open_local(deps.blobs, stored.blob_key) as path:  # S3: a downloaded copy, as PyAV reads files
            probe, error = await loop.run_in_executor(deps.media_threads, media.probe, path, record.file_type)
    except FileNotFoundError as exc:  # deleted meanwhile
        raise NotFound("No such file.", reason=R.FILE_NOT_FOUND) from exc
    if probe is None and not error:
        return Description(record, None, "")  # a type that is not probed: nothing to keep
    async with deps.sessions.begin() as session:
        again = await repository.content(session, record.sha256, lock=True)
        if again is not None:
            again.media = json_format.MessageToDict(probe, preserving_proto_field_name=True) if probe else None
            again.media_error = error or None
            session.add(again)
    return Description(record, probe, error)


async def thumbnail(deps: FileDeps, principal: Principal, file_id: str, size: str) -> str:
    """The blob key of the file's thumbnail at a size, made on the first request."""
    if size not in posters.SIZES:
        raise InvalidArgument("A thumbnail is small, medium or large.", reason=R.REQUEST_INVALID)
    record = await get(deps, principal, file_id)
    key = storage.thumb_key(record.sha256, size)
    if await asyncio.to_thread(deps.blobs.stat, key) is not None:
        return key
    loop = asyncio.get_running_loop()
    try:
        async with open_local(deps.blobs, storage.content_key(record.sha256)) as source:
            jpeg = await loop.run_in_executor(deps.media_threads, media.thumbnail, source, record.file_type, size)
    except FileNotFoundError as exc:  # deleted meanwhile
        raise NotFound("No such file.", reason=R.FILE_NOT_FOUND) from exc
    await asyncio.to_thread(_write, deps, key, jpeg)
    return key


def _write(deps: FileDeps, key: str, data: bytes) -> None:
    with deps.blobs.writer(key) as scratch:
        scratch.write_bytes(data)
