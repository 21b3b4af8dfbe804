"""gRPC server bootstrap: health, reflection, tracing, caller identity and one error interceptor."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_interceptor.exception_to_status import AsyncExceptionToStatusInterceptor
from grpc_interceptor.server import AsyncServerInterceptor
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.sdk.trace import TracerProvider

from services.common import errors
from services.common.credentials import CredentialResolver
from services.common.identity import Principal, set_caller

logger = logging.getLogger(__name__)

# Category -> status code; the first match along the exception's MRO wins (starlette's lookup).
_CODES: dict[type[errors.DomainError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.PaymentRequired: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Conflict: grpc.StatusCode.ABORTED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.PermanentError: grpc.StatusCode.FAILED_PRECONDITION,
}

_DETAILS_KEY = "grpc-status-details-bin"

# Methods any caller may use without credentials.
PUBLIC_METHODS = frozenset(
    {
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    }
)


def status_code_for(exc: errors.DomainError) -> grpc.StatusCode:
    """The gRPC code of a domain error's category."""
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return grpc.StatusCode.INTERNAL


def to_rich_status(exc: errors.DomainError, domain: str) -> status_pb2.Status:
    """google.rpc.Status with ErrorInfo (reason, metadata) and BadRequest field violations."""
    code = status_code_for(exc)
    details = [error_details_pb2.ErrorInfo(reason=exc.reason_name, domain=domain, metadata=exc.metadata)]
    packed = []
    for detail in details:
        item = any_pb2.Any()
        item.Pack(detail)
        packed.append(item)
    if exc.violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in exc.violations
            ]
        )
        item = any_pb2.Any()
        item.Pack(bad)
        packed.append(item)
    return status_pb2.Status(code=code.value[0], message=exc.message, details=packed)


class DomainErrorInterceptor(AsyncExceptionToStatusInterceptor):
    """Turns domain errors into a status with ErrorInfo; anything unexpected into INTERNAL."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self._domain = domain

    async def handle_exception(
        self,
        ex: Exception,
        request_or_iterator: Any,
        context: grpc.aio.ServicerContext[Any, Any],
        method_name: str,
    ) -> NoReturn:
        if isinstance(ex, errors.DomainError):
            status = rpc_status.to_status(to_rich_status(ex, self._domain))
            await context.abort(status.code, status.details, status.trailing_metadata)
        if isinstance(ex, grpc.aio.AioRpcError):
            # A downstream service refused: pass its status, reason and details through unchanged.
            rich = [(k, v) for k, v in (ex.trailing_metadata() or ()) if k == _DETAILS_KEY]
            await context.abort(ex.code(), ex.details() or "", tuple(rich))
        if isinstance(ex, grpc.aio.AbortError):
            raise ex
        trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
        logger.exception("unhandled error in %s (trace %s)", method_name, trace_id)
        internal = errors.DomainError("Internal error.", reason=errors.R.INTERNAL)
        rich_status = to_rich_status(internal, self._domain)
        rich_status.code = code_pb2.INTERNAL
        status = rpc_status.to_status(rich_status)
        await context.abort(status.code, status.details, status.trailing_metadata)


# Access policies: who may call a method.
PUBLIC = "public"  # anyone, no credentials
AUTHENTICATED = "authenticated"  # any valid credential
SESSION = "session"  # a login session (access token) only, not an API key
# Anything else is a scope the caller's key (or session) must carry, e.g. "jobs:read".


class CallerInterceptor(AsyncServerInterceptor):
    """Checks `authorization: Bearer <API key or token>` against the method's access policy and
    binds the verified principal to the call. A method without a policy is refused (fail closed)."""

    def __init__(self, resolver: CredentialResolver, policies: Mapping[str, str]) -> None:
        self._resolver = resolver
        self._policies = {**dict.fromkeys(PUBLIC_METHODS, PUBLIC), **policies}

    async def intercept(
        self,
        method: Callable[..., Any],
        request_or_iterator: Any,
        context: grpc.aio.ServicerContext[Any, Any],
        method_name: str,
    ) -> Any:
        policy = self._policies.get(method_name)
        if policy is None:
            raise errors.PermissionDenied("This method has no access policy.", reason=errors.R.FORBIDDEN)
        if policy != PUBLIC:
            credential = _bearer(context.invocation_metadata() or ())
            if credential is None:
                raise errors.Unauthenticated("This call needs `authorization: Bearer <API key or token>`.")
            caller = await self._resolver.resolve(credential)
            check_access(policy, caller.principal)
            set_caller(caller.principal, caller.token)
        response = method(request_or_iterator, context)
        if hasattr(response, "__aiter__"):
            return response
        return await response


def check_access(policy: str, principal: Principal) -> None:
    """PermissionDenied unless the principal satisfies the policy (a scope, or a session)."""
    if policy in (PUBLIC, AUTHENTICATED):
        return
    if policy == SESSION:
        if not principal.session:
            raise errors.PermissionDenied(
                "API keys cannot manage API keys: log in (POST /auth/login) and use the access token.",
                reason=errors.R.FORBIDDEN,
            )
        return
    if policy not in principal.scopes:
        raise errors.PermissionDenied(
            f"This API key lacks the {policy} scope.", reason=errors.R.SCOPE_MISSING, metadata={"requiredScope": policy}
        )


def _bearer(metadata: Iterable[Any]) -> str | None:
    for item in metadata:
        key, value = item[0], item[1]
        if key == "authorization" and isinstance(value, str) and value.lower().startswith("bearer "):
            token = value[7:].strip()
            return token or None
    return None


@dataclass
class GrpcServer:
    """A started server, its bound port and its health servicer (NOT_SERVING until `serving`)."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    service_names: tuple[str, ...]

    async def serving(self, ok: bool = True) -> None:
        """Flips every service's health status (and the overall one)."""
        status = health_pb2.HealthCheckResponse.SERVING if ok else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", *self.service_names):
            await self.health.set(name, status)

    async def stop(self, grace: float = 3.0) -> None:
        """Refuses new calls, lets running ones finish within `grace` seconds."""
        await self.serving(False)
        await self.server.stop(grace)


async def start_grpc_server(
    *,
    listen: str,
    domain: str,
    tracer_provider: TracerProvider,
    resolver: CredentialResolver,
    policies: Mapping[str, str],
    register: Callable[[grpc.aio.Server], None],
    service_names: Iterable[str],
) -> GrpcServer:
    """Builds, binds and starts a server; interceptors run tracing -> errors -> caller identity."""
    server = grpc.aio.server(
        interceptors=[
            aio_server_interceptor(tracer_provider=tracer_provider),
            DomainErrorInterceptor(domain),
            CallerInterceptor(resolver, policies),
        ],
        options=[("grpc.so_reuseport", 0)],
    )
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = tuple(service_names)
    reflection.enable_server_reflection((*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(listen)
    if port == 0:
        raise OSError(f"cannot bind gRPC server to {listen}")
    await server.start()
    grpc_server = GrpcServer(server=server, port=port, health=health_servicer, service_names=names)
    await grpc_server.serving(False)
    return grpc_server
