"""The webhooks gRPC server."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from protos.webhooks.v1 import webhooks_pb2, webhooks_pb2_grpc
from services.common.credentials import CredentialResolver
from services.common.grpc_server import GrpcServer, start_grpc_server
from services.webhooks.dispatcher import Dispatcher
from services.webhooks.domain import Deps
from services.webhooks.servicer import WebhookServicer

SERVICE_NAME = webhooks_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name
_METHODS = webhooks_pb2.DESCRIPTOR.services_by_name["WebhookService"].methods
# The feed is about jobs (jobs:read); a one-off callback's check comes with a job (jobs:create); everything
# else manages subscriptions.
_SCOPES = {"ListEvents": "jobs:read", "CheckTarget": "jobs:create"}
POLICIES = {f"/{SERVICE_NAME}/{m.name}": _SCOPES.get(m.name, "webhooks:manage") for m in _METHODS}


async def create_server(
    listen: str, deps: Deps, dispatcher: Dispatcher, resolver: CredentialResolver, tracer_provider: TracerProvider
) -> GrpcServer:
    """Starts the server (NOT_SERVING until the caller flips it)."""
    return await start_grpc_server(
        listen=listen,
        domain="webhooks",
        tracer_provider=tracer_provider,
        resolver=resolver,
        policies=POLICIES,
        register=lambda server: webhooks_pb2_grpc.add_WebhookServiceServicer_to_server(
            WebhookServicer(deps, dispatcher), server
        ),
        service_names=[SERVICE_NAME],
    )
