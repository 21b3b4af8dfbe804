"""Adapters from the jobs use cases to peer services over gRPC."""

from __future__ import annotations

import grpc

from protos.common.v1 import storage_pb2
from protos.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from services.common.grpc_client import peer_error
from services.common.identity import caller_metadata
from services.jobs.domain import SourceInfo


class IngestClient:
    """Asks ingest whether a source is acceptable (and what it holds), on behalf of the caller."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = ingest_pb2_grpc.IngestServiceStub(channel)
        self._timeout = timeout

    async def inspect_source(self, source: storage_pb2.Source, probe: bool) -> SourceInfo:
        try:
            response = await self._stub.ValidateSource(
                ingest_pb2.ValidateSourceRequest(source=source, probe=probe),
                timeout=self._timeout,
                metadata=caller_metadata(),
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc) or exc from None  # the source's own error, e.g. for one item of a bulk
        return SourceInfo(
            filename=response.filename,
            size=response.size_bytes,
            probe=response.probe if response.HasField("probe") else None,
            probe_error=response.probe_error,
        )

    async def check_destination(self, destination: storage_pb2.Destination) -> None:
        try:
            await self._stub.CheckDestination(
                ingest_pb2.CheckDestinationRequest(destination=destination),
                timeout=self._timeout,
                metadata=caller_metadata(),
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc) or exc from None
