"""IngestService over gRPC: proto <-> domain, nothing else."""

from __future__ import annotations

from typing import Any

import grpc

from protos.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from services.ingest import domain


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, deps: domain.Deps) -> None:
        self._deps = deps

    async def ValidateSource(
        self, request: ingest_pb2.ValidateSourceRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> ingest_pb2.ValidateSourceResponse:
        found = await domain.validate_source(self._deps, source=request.source, probe=request.probe)
        return ingest_pb2.ValidateSourceResponse(
            filename=found.filename,
            size_bytes=found.size,
            content_type=found.content_type,
            probe=found.probe,
            probe_error=found.probe_error,
        )

    async def CheckDestination(
        self, request: ingest_pb2.CheckDestinationRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> ingest_pb2.CheckDestinationResponse:
        await domain.check_destination(self._deps, request.destination)
        return ingest_pb2.CheckDestinationResponse()

    async def ListFolder(
        self, request: ingest_pb2.ListFolderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> ingest_pb2.ListFolderResponse:
        found = await domain.list_folder(self._deps, request.folder, request.max_files)
        return ingest_pb2.ListFolderResponse(
            items=[ingest_pb2.FolderItem(source=f.source, filename=f.filename, size_bytes=f.size) for f in found]
        )
