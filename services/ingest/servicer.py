"""IngestService over gRPC: proto <-> domain, nothing else."""

from __future__ import annotations

from typing import Any

import grpc

from protos.common.v1 import storage_pb2
from protos.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from services.common.errors import NotFound, R
from services.common.identity import current_principal
from services.ingest import domain, objects, refs

Context = grpc.aio.ServicerContext[Any, Any]


def _answer(found: domain.Inspection, source: storage_pb2.Source | None = None) -> ingest_pb2.ValidateSourceResponse:
    return ingest_pb2.ValidateSourceResponse(
        filename=found.filename,
        size_bytes=found.size,
        content_type=found.content_type,
        probe=found.probe,
        probe_error=found.probe_error,
        source=source,
    )


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, owners: refs.Owners) -> None:
        self._owners = owners
        self._deps = owners.sources

    async def ValidateSource(
        self, request: ingest_pb2.ValidateSourceRequest, context: Context
    ) -> ingest_pb2.ValidateSourceResponse:
        source = request.source
        if source.WhichOneof("kind") == "blob_key" and not await refs.owns_blob(
            self._owners, current_principal(), source.blob_key
        ):
            raise NotFound("No such upload.", reason=R.FILE_NOT_FOUND)  # the answer for one that does not exist
        return _answer(await domain.validate_source(self._deps, source=source, probe=request.probe))

    async def ResolveSource(
        self, request: ingest_pb2.ResolveSourceRequest, context: Context
    ) -> ingest_pb2.ValidateSourceResponse:
        source, filename = await refs.source_of(self._owners, current_principal(), request.ref)
        found = await domain.validate_source(self._deps, source=source, probe=request.probe)
        answer = _answer(found, source)
        answer.filename = filename or found.filename
        return answer

    async def ResolveDestination(
        self, request: ingest_pb2.ResolveDestinationRequest, context: Context
    ) -> storage_pb2.Destination:
        return await refs.destination_of(self._owners, current_principal(), request.ref)

    async def DeleteObjects(
        self, request: ingest_pb2.DeleteObjectsRequest, context: Context
    ) -> ingest_pb2.DeleteObjectsResponse:
        deleted = await objects.delete_job_objects(self._deps.blobs, current_principal(), list(request.keys))
        return ingest_pb2.DeleteObjectsResponse(deleted=deleted)

    async def CheckDestination(
        self, request: ingest_pb2.CheckDestinationRequest, context: Context
    ) -> ingest_pb2.CheckDestinationResponse:
        await domain.check_destination(self._deps, request.destination)
        return ingest_pb2.CheckDestinationResponse()

    async def ListFolder(
        self, request: ingest_pb2.ListFolderRequest, context: Context
    ) -> ingest_pb2.ListFolderResponse:
        if request.files:
            picked = await refs.selected_files(
                self._owners, current_principal(), list(request.files), request.max_files
            )
            return ingest_pb2.ListFolderResponse(
                items=[ingest_pb2.FolderItem(source=source, filename=name) for source, name in picked]
            )
        folder = request.folder
        if request.folder_ref.WhichOneof("kind") is not None:
            folder = await refs.folder_of(self._owners, current_principal(), request.folder_ref)
        found = await domain.list_folder(self._deps, folder, request.max_files)
        return ingest_pb2.ListFolderResponse(
            items=[ingest_pb2.FolderItem(source=f.source, filename=f.filename, size_bytes=f.size) for f in found]
        )
