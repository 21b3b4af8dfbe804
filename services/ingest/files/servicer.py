"""FileService over gRPC: proto <-> domain, nothing else."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import grpc

from protos.ingest.v1 import files_pb2, files_pb2_grpc
from services.common.clock import utcnow
from services.common.errors import FieldViolation, InvalidArgument, R
from services.common.identity import current_principal
from services.ingest.files import domain, kinds, storage, store
from services.ingest.files.deps import FileDeps
from services.ingest.models import StoredFile

Context = grpc.aio.ServicerContext[Any, Any]
_COUNTERS = {
    files_pb2.ACCESS_KIND_DOWNLOAD: "download_count",
    files_pb2.ACCESS_KIND_STREAM: "stream_count",
    files_pb2.ACCESS_KIND_SIGNED: "signed_count",
}
MAX_BATCH = 20
MAX_CLEANUP = 1000


def to_proto(record: StoredFile) -> files_pb2.File:
    message = files_pb2.File(
        id=str(record.id),
        filename=record.filename,
        size_bytes=record.size,
        content_type=record.content_type,
        file_type=kinds.TYPE_VALUES.get(record.file_type, files_pb2.FILE_TYPE_OTHER),
        subdirectory=record.subdirectory,
        description=record.description,
        sha256=record.sha256,
        blob_key=storage.content_key(record.sha256),
        download_count=record.download_count,
        stream_count=record.stream_count,
        signed_count=record.signed_count,
        deduplicated=record.deduplicated,
    )
    message.created_at.FromDatetime(record.created_at)
    message.updated_at.FromDatetime(record.updated_at)
    if record.last_accessed_at is not None:
        message.last_accessed_at.FromDatetime(record.last_accessed_at)
    return message


def _type_name(value: files_pb2.FileType.ValueType, field: str) -> str | None:
    if value == files_pb2.FILE_TYPE_UNSPECIFIED:
        return None
    if value not in kinds.TYPE_NAMES:
        raise InvalidArgument(
            "Request validation failed", reason=R.REQUEST_INVALID, violations=[FieldViolation(field, "unknown type")]
        )
    return kinds.TYPE_NAMES[value]


class FileServicer(files_pb2_grpc.FileServiceServicer):
    def __init__(self, deps: FileDeps) -> None:
        self._deps = deps

    async def RegisterFiles(
        self, request: files_pb2.RegisterFilesRequest, context: Context
    ) -> files_pb2.RegisterFilesResponse:
        if not 1 <= len(request.files) <= MAX_BATCH:
            raise InvalidArgument(f"Register 1 to {MAX_BATCH} files at a time.", reason=R.REQUEST_INVALID)
        now = utcnow()
        uploads = [
            store.NewFile(
                staged=storage.check_staged(
                    self._deps.sealer,
                    key=f.staging_key,
                    size=f.size_bytes,
                    sha256=f.sha256,
                    seal=f.seal,
                    expires=f.seal_expires,
                    now=now,
                ),
                filename=f.filename,
                content_type=f.content_type,
                file_type=_type_name(f.file_type, f"files.{i}.file_type") or "",
                subdirectory=f.subdirectory,
                description=f.description,
            )
            for i, f in enumerate(request.files)
        ]
        records = await store.register(self._deps, current_principal(), uploads)
        return files_pb2.RegisterFilesResponse(files=[to_proto(r) for r in records])

    async def GetFile(self, request: files_pb2.GetFileRequest, context: Context) -> files_pb2.File:
        return to_proto(await domain.get(self._deps, current_principal(), request.file_id))

    async def ListFiles(self, request: files_pb2.ListFilesRequest, context: Context) -> files_pb2.ListFilesResponse:
        records, total = await domain.list_files(
            self._deps,
            current_principal(),
            file_type=_type_name(request.file_type, "file_type"),
            page=request.page,
            page_size=request.page_size or 20,
        )
        return files_pb2.ListFilesResponse(files=[to_proto(r) for r in records], total=total)

    async def DescribeFile(self, request: files_pb2.GetFileRequest, context: Context) -> files_pb2.FileDescription:
        found = await domain.describe(self._deps, current_principal(), request.file_id)
        return files_pb2.FileDescription(file=to_proto(found.file), probe=found.probe, probe_error=found.probe_error)

    async def RecordAccess(self, request: files_pb2.RecordAccessRequest, context: Context) -> files_pb2.File:
        counter = _COUNTERS.get(request.kind, "")
        return to_proto(await domain.record_access(self._deps, current_principal(), request.file_id, counter))

    async def GetThumbnail(self, request: files_pb2.GetThumbnailRequest, context: Context) -> files_pb2.Thumbnail:
        key = await domain.thumbnail(self._deps, current_principal(), request.file_id, request.size or "medium")
        return files_pb2.Thumbnail(blob_key=key, content_type="image/jpeg")

    async def DeleteFile(self, request: files_pb2.DeleteFileRequest, context: Context) -> files_pb2.DeleteFileResponse:
        record, gone = await store.delete(self._deps, current_principal(), request.file_id)
        return files_pb2.DeleteFileResponse(file=to_proto(record), content_deleted=gone)

    async def CleanupFiles(
        self, request: files_pb2.CleanupFilesRequest, context: Context
    ) -> files_pb2.CleanupFilesResponse:
        file_type = _type_name(request.file_type, "file_type")
        before = request.created_before.ToDatetime(tzinfo=UTC) if request.HasField("created_before") else None
        if before is None and file_type is None:
            raise InvalidArgument("Say which files to remove: by age, by type, or both.", reason=R.REQUEST_INVALID)
        limit = min(request.limit or MAX_CLEANUP, MAX_CLEANUP)
        found, remaining = await store.cleanup(
            self._deps,
            current_principal(),
            created_before=before,
            file_type=file_type,
            dry_run=request.dry_run,
            limit=limit,
        )
        return files_pb2.CleanupFilesResponse(
            files=[to_proto(r) for r in found], bytes=sum(r.size for r in found), remaining=remaining
        )

    async def GetFileStats(self, request: files_pb2.GetFileStatsRequest, context: Context) -> files_pb2.FileStats:
        found = await domain.stats(self._deps, current_principal())
        usage = found.usage
        return files_pb2.FileStats(
            total_files=found.files,
            logical_bytes=found.logical,
            stored_bytes=usage.stored,
            deduplicated_files=found.files - usage.distinct,
            by_type=[
                files_pb2.TypeStats(file_type=kinds.TYPE_VALUES.get(name, files_pb2.FILE_TYPE_OTHER), count=n, bytes=b)
                for name, n, b in usage.by_type
            ],
        )
