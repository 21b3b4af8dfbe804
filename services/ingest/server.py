"""The ingest gRPC server."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from protos.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from services.common.credentials import CredentialResolver
from services.common.grpc_server import GrpcServer, start_grpc_server
from services.ingest.domain import Deps
from services.ingest.servicer import IngestServicer

SERVICE_NAME = ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name
POLICIES = {f"/{SERVICE_NAME}/ValidateSource": "jobs:create"}


async def create_server(
    listen: str, deps: Deps, resolver: CredentialResolver, tracer_provider: TracerProvider
) -> GrpcServer:
    """Starts the server (NOT_SERVING until the caller flips it)."""
    return await start_grpc_server(
        listen=listen,
        domain="ingest",
        tracer_provider=tracer_provider,
        resolver=resolver,
        policies=POLICIES,
        register=lambda server: ingest_pb2_grpc.add_IngestServiceServicer_to_server(IngestServicer(deps), server),
        service_names=[SERVICE_NAME],
    )
