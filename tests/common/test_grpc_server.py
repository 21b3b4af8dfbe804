"""The shared gRPC bootstrap on a real server: error mapping, caller identity, health, reflection."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from opentelemetry.sdk.trace import TracerProvider

from protos.auth.v1 import auth_pb2, auth_pb2_grpc
from services.common import errors
from services.common.clock import utcnow
from services.common.credentials import CredentialResolver
from services.common.errors import R
from services.common.grpc_server import AUTHENTICATED, PUBLIC, GrpcServer, start_grpc_server
from services.common.identity import Principal, TokenSigner, bearer_metadata, caller_metadata, current_principal

_DOMAIN = "tests"
_SERVICE = "vidkiln.auth.v1.AuthService"
_METHOD = f"/{_SERVICE}/Authenticate"
_SIGNER = TokenSigner(b"grpc-test-platform-key")
_ACCOUNT = uuid.UUID("00000000-0000-4000-8000-00000000a11c")
_SECRET_TEXT = "password=hunter2 at db.internal"


class JobNotFound(errors.NotFound):
    """A service's own error class: its category is found along the MRO."""

    default_reason = R.JOB_NOT_FOUND


# credential -> the domain error the servicer raises for it
_ERRORS: dict[str, Callable[[], errors.DomainError]] = {
    "not-found": lambda: JobNotFound("Job 42 does not exist."),
    "invalid": lambda: errors.InvalidArgument(
        "The request is not valid.",
        violations=[
            errors.FieldViolation("codec", "must be one of h264, h265, av1, vp9"),
            errors.FieldViolation("resolution", "must be like 720p"),
        ],
    ),
    "denied": lambda: errors.PermissionDenied(
        "The key lacks a scope.", reason=R.SCOPE_MISSING, metadata={"scope": "jobs:write"}
    ),
    "unauthenticated": lambda: errors.Unauthenticated("The API key has expired.", reason=R.API_KEY_EXPIRED),
    "payment": lambda: errors.PaymentRequired("Not enough credits."),
    "conflict": lambda: errors.Conflict("Another request holds this key.", reason=R.IDEMPOTENCY_IN_PROGRESS),
}


class _Servicer(auth_pb2_grpc.AuthServiceServicer):
    """Raises the error its credential names, else answers with the caller's account."""

    def __init__(self) -> None:
        self.peer = ""  # this server's own address, for the "downstream:" credentials

    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> auth_pb2.AuthenticateResponse:
        credential = request.credential
        if credential in _ERRORS:
            raise _ERRORS[credential]()
        if credential == "boom":
            raise RuntimeError(_SECRET_TEXT)
        if credential == "anonymous":
            return auth_pb2.AuthenticateResponse(token="anonymous")
        if credential.startswith("downstream:"):
            async with grpc.aio.insecure_channel(self.peer) as channel:
                forwarded = auth_pb2.AuthenticateRequest(credential=credential.removeprefix("downstream:"))
                stub = auth_pb2_grpc.AuthServiceStub(channel)
                return await stub.Authenticate(forwarded, metadata=caller_metadata(), timeout=5)
        principal = current_principal()
        return auth_pb2.AuthenticateResponse(
            principal=auth_pb2.Principal(account_id=str(principal.account_id), scopes=sorted(principal.scopes))
        )


async def _no_api_keys(_credential: str) -> tuple[Principal, str, float]:
    raise errors.Unauthenticated("The API key is not valid.", reason=R.API_KEY_INVALID)


@asynccontextmanager
async def _serving(provider: TracerProvider, *, public_methods: Iterable[str] = ()) -> AsyncIterator[GrpcServer]:
    servicer = _Servicer()  # type: ignore[abstract]  # only Authenticate is served
    policies = dict.fromkeys(public_methods, PUBLIC) or {_METHOD: AUTHENTICATED}
    server = await start_grpc_server(
        listen="127.0.0.1:0",
        domain=_DOMAIN,
        tracer_provider=provider,
        resolver=CredentialResolver(_SIGNER, _no_api_keys),
        policies=policies,
        register=lambda s: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, s),
        service_names=[_SERVICE],
    )
    servicer.peer = f"127.0.0.1:{server.port}"
    try:
        yield server
    finally:
        await server.stop(0)


@pytest.fixture
async def server(tracer_provider: TracerProvider) -> AsyncIterator[GrpcServer]:
    async with _serving(tracer_provider) as started:
        yield started


@pytest.fixture
async def channel(server: GrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as opened:
        yield opened


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> auth_pb2_grpc.AuthServiceAsyncStub:
    return auth_pb2_grpc.AuthServiceStub(channel)


def _token(**issue: Any) -> str:
    principal = Principal(account_id=_ACCOUNT, scopes=frozenset({"jobs:read", "jobs:write"}))
    return _SIGNER.issue(principal, **issue)[0]


async def _refused(
    stub: auth_pb2_grpc.AuthServiceAsyncStub, credential: str, metadata: tuple[tuple[str, str], ...]
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Authenticate(auth_pb2.AuthenticateRequest(credential=credential), metadata=metadata, timeout=5)
    return caught.value


def _rich(error: grpc.aio.AioRpcError) -> tuple[Any, Any, Any]:
    """The call's google.rpc.Status, its ErrorInfo and its BadRequest (None when absent)."""
    status = rpc_status.from_call(error)
    assert status is not None, "the status carries no grpc-status-details-bin"
    info, bad_request = None, None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
    assert info is not None, "every error carries an ErrorInfo"
    return status, info, bad_request


@pytest.mark.parametrize(
    ("credential", "code", "reason"),
    [
        ("not-found", grpc.StatusCode.NOT_FOUND, "JOB_NOT_FOUND"),
        ("invalid", grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID"),
        ("denied", grpc.StatusCode.PERMISSION_DENIED, "SCOPE_MISSING"),
        ("unauthenticated", grpc.StatusCode.UNAUTHENTICATED, "API_KEY_EXPIRED"),
        ("payment", grpc.StatusCode.FAILED_PRECONDITION, "TOKENS_INSUFFICIENT"),
        ("conflict", grpc.StatusCode.ABORTED, "IDEMPOTENCY_IN_PROGRESS"),
    ],
)
async def test_a_domain_error_becomes_its_category_code_with_error_info(
    stub: auth_pb2_grpc.AuthServiceAsyncStub, credential: str, code: grpc.StatusCode, reason: str
) -> None:
    error = await _refused(stub, credential, bearer_metadata(_token()))

    assert error.code() == code
    assert error.details() == _ERRORS[credential]().message
    _, info, _ = _rich(error)
    assert (info.reason, info.domain) == (reason, _DOMAIN)


async def test_invalid_argument_lists_the_field_violations(stub: auth_pb2_grpc.AuthServiceAsyncStub) -> None:
    _, _, bad_request = _rich(await _refused(stub, "invalid", bearer_metadata(_token())))

    assert bad_request is not None
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("codec", "must be one of h264, h265, av1, vp9"),
        ("resolution", "must be like 720p"),
    ]


async def test_permission_denied_carries_the_error_metadata(stub: auth_pb2_grpc.AuthServiceAsyncStub) -> None:
    _, info, bad_request = _rich(await _refused(stub, "denied", bearer_metadata(_token())))

    assert dict(info.metadata) == {"scope": "jobs:write"}
    assert bad_request is None


async def test_an_unexpected_exception_is_internal_and_does_not_leak(
    stub: auth_pb2_grpc.AuthServiceAsyncStub, caplog: pytest.LogCaptureFixture
) -> None:
    error = await _refused(stub, "boom", bearer_metadata(_token()))

    assert error.code() == grpc.StatusCode.INTERNAL
    assert error.details() == "Internal error."
    _, info, _ = _rich(error)
    assert info.reason == "INTERNAL"
    assert "hunter2" not in str(error.trailing_metadata())
    assert any("unhandled error in " + _METHOD in r.getMessage() for r in caplog.records)  # logged, not sent


async def test_a_downstream_refusal_passes_through_with_its_reason(stub: auth_pb2_grpc.AuthServiceAsyncStub) -> None:
    error = await _refused(stub, "downstream:not-found", bearer_metadata(_token()))

    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "Job 42 does not exist."
    assert _rich(error)[1].reason == "JOB_NOT_FOUND"


async def test_the_servicer_sees_the_callers_principal(stub: auth_pb2_grpc.AuthServiceAsyncStub) -> None:
    reply = await stub.Authenticate(
        auth_pb2.AuthenticateRequest(credential="whoami"), metadata=bearer_metadata(_token()), timeout=5
    )

    assert reply.principal.account_id == str(_ACCOUNT)
    assert list(reply.principal.scopes) == ["jobs:read", "jobs:write"]


async def test_the_callers_token_is_forwarded_downstream(stub: auth_pb2_grpc.AuthServiceAsyncStub) -> None:
    reply = await stub.Authenticate(
        auth_pb2.AuthenticateRequest(credential="downstream:whoami"), metadata=bearer_metadata(_token()), timeout=5
    )

    assert reply.principal.account_id == str(_ACCOUNT)


@pytest.mark.parametrize(
    "metadata",
    [(), (("authorization", "Basic dXNlcjpwYXNz"),), (("authorization", "Bearer "),)],
    ids=["none", "basic", "empty-bearer"],
)
async def test_a_call_without_a_bearer_token_is_unauthenticated(
    stub: auth_pb2_grpc.AuthServiceAsyncStub, metadata: tuple[tuple[str, str], ...]
) -> None:
    error = await _refused(stub, "whoami", metadata)

    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert _rich(error)[1].reason == "CREDENTIALS_MISSING"


async def test_a_forged_token_is_invalid(stub: auth_pb2_grpc.AuthServiceAsyncStub) -> None:
    principal = Principal(account_id=_ACCOUNT, scopes=frozenset({"jobs:write"}), role="ADMIN")
    forged = TokenSigner(b"someone-elses-key").issue(principal)[0]

    error = await _refused(stub, "whoami", bearer_metadata(forged))

    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert _rich(error)[1].reason == "TOKEN_INVALID"


async def test_an_expired_token_is_refused(stub: auth_pb2_grpc.AuthServiceAsyncStub) -> None:
    expired = _token(now=utcnow() - timedelta(hours=1))

    error = await _refused(stub, "whoami", bearer_metadata(expired))

    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert _rich(error)[1].reason == "TOKEN_EXPIRED"


async def test_public_methods_need_no_token_and_bind_no_caller(tracer_provider: TracerProvider) -> None:
    async with (
        _serving(tracer_provider, public_methods=[_METHOD]) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        await stub.Authenticate(  # an authenticated call first: its caller must not linger
            auth_pb2.AuthenticateRequest(credential="anonymous"), metadata=bearer_metadata(_token()), timeout=5
        )

        reply = await stub.Authenticate(auth_pb2.AuthenticateRequest(credential="anonymous"), timeout=5)
        assert reply.token == "anonymous"
        error = await _refused(stub, "whoami", ())
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert _rich(error)[1].reason == "CREDENTIALS_MISSING"


async def test_health_is_not_serving_until_the_service_says_so(server: GrpcServer, channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)

    async def statuses() -> list[int]:
        return [
            (await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)).status
            for name in ("", _SERVICE)
        ]

    assert await statuses() == [health_pb2.HealthCheckResponse.NOT_SERVING] * 2
    await server.serving()
    assert await statuses() == [health_pb2.HealthCheckResponse.SERVING] * 2
    await server.serving(False)
    assert await statuses() == [health_pb2.HealthCheckResponse.NOT_SERVING] * 2


async def test_reflection_lists_the_services_without_a_token(channel: grpc.aio.Channel) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")

    names = {
        service.name
        async for response in reflection.ServerReflectionInfo(iter([request]), timeout=5)
        for service in response.list_services_response.service
    }

    assert {_SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names
