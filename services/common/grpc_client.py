"""gRPC channels to peer services, traced like the servers."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from opentelemetry.sdk.trace import TracerProvider

from protos.common.v1 import errors_pb2
from services.common import errors
from services.common.errors import DomainError, FieldViolation, Reason

# Status code -> the category a peer's domain error is raised again as (the reason says the rest).
_CATEGORY: dict[grpc.StatusCode, type[DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.ABORTED: errors.Conflict,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: errors.Unavailable,
}


def open_channel(addr: str, tracer_provider: TracerProvider) -> grpc.aio.Channel:
    """An insecure channel (loopback or a private network) with client tracing interceptors."""
    return grpc.aio.insecure_channel(
        addr,
        interceptors=aio_client_interceptors(tracer_provider=tracer_provider),
        options=[
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 2_000),
        ],
    )


def peer_error(exc: grpc.aio.AioRpcError) -> DomainError | None:
    """The domain error a peer service raised (its ErrorInfo reason, metadata and field
    violations), or None for a status without one (a peer that is down, a deadline)."""
    status = rpc_status.from_call(exc)
    reason: Reason | None = None
    metadata: dict[str, str] = {}
    violations: list[FieldViolation] = []
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            if info.reason in errors_pb2.ErrorReason.keys():
                reason = errors_pb2.ErrorReason.Value(info.reason)
            metadata = dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [FieldViolation(v.field, v.description) for v in bad.field_violations]
    if reason is None:
        return None
    category = _CATEGORY.get(exc.code(), DomainError)
    return category(exc.details() or "", reason=reason, metadata=metadata, violations=violations)
