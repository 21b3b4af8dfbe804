"""The webhooks gRPC server."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from protos.webhooks.v1 import webhooks_pb2, webhooks_pb2_grpc
from services.common.credentials import CredentialResolver
from services.common.grpc_server import GrpcServer, start_grpc_server

SERVICE_NAME = webhooks_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name
POLICIES: dict[str, str] = {}  # no methods yet


class WebhookServicer(webhooks_pb2_grpc.WebhookServiceServicer):
    """No methods yet: subscriptions and deliveries arrive with the webhooks issue."""


async def create_server(listen: str, resolver: CredentialResolver, tracer_provider: TracerProvider) -> GrpcServer:
    """Starts the server (NOT_SERVING until the caller flips it)."""
    return await start_grpc_server(
        listen=listen,
        domain="webhooks",
        tracer_provider=tracer_provider,
        resolver=resolver,
        policies=POLICIES,
        register=lambda server: webhooks_pb2_grpc.add_WebhookServiceServicer_to_server(WebhookServicer(), server),
        service_names=[SERVICE_NAME],
    )
