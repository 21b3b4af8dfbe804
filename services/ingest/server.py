"""The ingest gRPC server: IngestService (sources), FileService (uploaded files), CredentialService (saved keys)."""

from __future__ import annotations

import grpc
from opentelemetry.sdk.trace import TracerProvider

from protos.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from services.common.credentials import CredentialResolver
from services.common.grpc_server import GrpcServer, start_grpc_server
from services.common.identity import DELETE_OBJECTS
from services.ingest.credentials import server as credentials_server
from services.ingest.credentials.domain import CredentialDeps
from services.ingest.domain import Deps
from services.ingest.files import server as files_server
from services.ingest.files.deps import FileDeps
from services.ingest.refs import Owners
from services.ingest.servicer import IngestServicer

SERVICE_NAME = ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name
POLICIES = {
    f"/{SERVICE_NAME}/ValidateSource": "jobs:create",
    f"/{SERVICE_NAME}/ResolveSource": "jobs:create",
    f"/{SERVICE_NAME}/ResolveDestination": "jobs:create",
    f"/{SERVICE_NAME}/CheckDestination": "jobs:create",
    f"/{SERVICE_NAME}/ListFolder": "jobs:create",
    f"/{SERVICE_NAME}/DeleteObjects": DELETE_OBJECTS,  # jobs only: no API key can carry it
}


async def create_server(
    listen: str,
    deps: Deps,
    resolver: CredentialResolver,
    tracer_provider: TracerProvider,
    files: FileDeps,
    credentials: CredentialDeps,
) -> GrpcServer:
    """Starts the server (NOT_SERVING until the caller flips it)."""

    def register(server: grpc.aio.Server) -> None:
        owners = Owners(sources=deps, files=files, credentials=credentials)
        ingest_pb2_grpc.add_IngestServiceServicer_to_server(IngestServicer(owners), server)
        files_server.register(server, files)
        credentials_server.register(server, credentials)

    return await start_grpc_server(
        listen=listen,
        domain="ingest",
        tracer_provider=tracer_provider,
        resolver=resolver,
        policies={**POLICIES, **files_server.POLICIES, **credentials_server.POLICIES},
        register=register,
        service_names=[SERVICE_NAME, files_server.SERVICE_NAME, credentials_server.SERVICE_NAME],
    )
