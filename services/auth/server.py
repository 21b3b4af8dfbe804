"""The auth gRPC server and who may call what."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from protos.auth.v1 import auth_pb2, auth_pb2_grpc
from services.auth.domain import Deps
from services.auth.servicer import AuthServicer
from services.common.credentials import CredentialResolver
from services.common.grpc_server import AUTHENTICATED, PUBLIC, SESSION, GrpcServer, start_grpc_server

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
POLICIES = {
    f"/{SERVICE_NAME}/{method}": policy
    for method, policy in {
        # These carry their credential (key, password, refresh token) in the request itself.
        "Authenticate": PUBLIC,
        "Login": PUBLIC,
        "Refresh": PUBLIC,
        "Logout": PUBLIC,
        "GetAccount": AUTHENTICATED,
        # The contract: an API key cannot manage API keys.
        "CreateApiKey": SESSION,
        "ListApiKeys": SESSION,
        "GetApiKey": SESSION,
        "DeleteApiKey": SESSION,
    }.items()
}


async def create_server(
    listen: str, deps: Deps, resolver: CredentialResolver, tracer_provider: TracerProvider
) -> GrpcServer:
    """Starts the server (NOT_SERVING until the caller flips it)."""
    return await start_grpc_server(
        listen=listen,
        domain="auth",
        tracer_provider=tracer_provider,
        resolver=resolver,
        policies=POLICIES,
        register=lambda server: auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthServicer(deps), server),
        service_names=[SERVICE_NAME],
    )
