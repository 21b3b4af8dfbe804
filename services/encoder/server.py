"""The encoder gRPC server."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from protos.encoder.v1 import encoder_pb2, encoder_pb2_grpc
from services.common.credentials import CredentialResolver
from services.common.grpc_server import AUTHENTICATED, GrpcServer, start_grpc_server
from services.encoder.servicer import EncoderServicer

SERVICE_NAME = encoder_pb2.DESCRIPTOR.services_by_name["EncoderService"].full_name
POLICIES = {f"/{SERVICE_NAME}/ListEncoders": AUTHENTICATED}


async def create_server(listen: str, resolver: CredentialResolver, tracer_provider: TracerProvider) -> GrpcServer:
    """Starts the server (NOT_SERVING until the caller flips it)."""
    return await start_grpc_server(
        listen=listen,
        domain="encoder",
        tracer_provider=tracer_provider,
        resolver=resolver,
        policies=POLICIES,
        register=lambda server: encoder_pb2_grpc.add_EncoderServiceServicer_to_server(EncoderServicer(), server),
        service_names=[SERVICE_NAME],
    )
