"""Adapters from the jobs use cases to peer services over gRPC."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from protos.common.v1 import storage_pb2
from protos.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from protos.webhooks.v1 import webhooks_pb2, webhooks_pb2_grpc
from services.common.grpc_client import peer_error
from services.common.identity import (
    DELETE_OBJECTS,
    Principal,
    TokenSigner,
    bearer_metadata,
    caller_metadata,
    current_principal,
)
from services.jobs.domain import SourceInfo


def _info(response: ingest_pb2.ValidateSourceResponse) -> SourceInfo:
    return SourceInfo(
        filename=response.filename,
        size=response.size_bytes,
        probe=response.probe if response.HasField("probe") else None,
        probe_error=response.probe_error,
    )


class IngestClient:
    """Asks ingest whether a source is acceptable (and what it holds), on behalf of the caller."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float, signer: TokenSigner | None = None) -> None:
        self._stub = ingest_pb2_grpc.IngestServiceStub(channel)
        self._timeout = timeout
        self._signer = signer  # mints the internal token DeleteObjects takes

    async def delete_objects(self, keys: Sequence[str]) -> int:
        """Removes a job of the caller's objects: jobs checked the job is the caller's, ingest owns the store."""
        assert self._signer is not None, "deleting objects needs the platform key"
        on_behalf = Principal(account_id=current_principal().account_id, scopes=frozenset({DELETE_OBJECTS}))
        token, _ = self._signer.issue(on_behalf)
        try:
            answer = await self._stub.DeleteObjects(
                ingest_pb2.DeleteObjectsRequest(keys=list(keys)), timeout=self._timeout, metadata=bearer_metadata(token)
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc) or exc from None
        return answer.deleted

    async def inspect_source(self, source: storage_pb2.Source, probe: bool) -> SourceInfo:
        try:
            response = await self._stub.ValidateSource(
                ingest_pb2.ValidateSourceRequest(source=source, probe=probe),
                timeout=self._timeout,
                metadata=caller_metadata(),
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc) or exc from None  # the source's own error, e.g. for one item of a bulk
        return _info(response)

    async def resolve_source(self, ref: storage_pb2.SourceRef, probe: bool) -> tuple[storage_pb2.Source, SourceInfo]:
        try:
            response = await self._stub.ResolveSource(
                ingest_pb2.ResolveSourceRequest(ref=ref, probe=probe), timeout=self._timeout, metadata=caller_metadata()
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc) or exc from None
        return response.source, _info(response)

    async def resolve_destination(self, ref: storage_pb2.DestinationRef) -> storage_pb2.Destination:
        try:
            return await self._stub.ResolveDestination(
                ingest_pb2.ResolveDestinationRequest(ref=ref), timeout=self._timeout, metadata=caller_metadata()
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc) or exc from None

    async def check_destination(self, destination: storage_pb2.Destination) -> None:
        try:
            await self._stub.CheckDestination(
                ingest_pb2.CheckDestinationRequest(destination=destination),
                timeout=self._timeout,
                metadata=caller_metadata(),
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc) or exc from None


class WebhooksClient:
    """Asks webhooks whether a job's one-off callback URL may be posted to, on behalf of the caller."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = webhooks_pb2_grpc.WebhookServiceStub(channel)
        self._timeout = timeout

    async def check_callback(self, url: str) -> str:
        """The URL as it will be posted to; the address rules of every webhook refuse the rest (4xx)."""
        try:
            answer = await self._stub.CheckTarget(
                webhooks_pb2.CheckTargetRequest(url=url), timeout=self._timeout, metadata=caller_metadata()
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc) or exc from None
        return answer.url
