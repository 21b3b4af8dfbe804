"""Every error reason reaches clients with the right HTTP status and each dialect's stable code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from opentelemetry.sdk.trace import TracerProvider

from gateway.errors import CODES, HTTP_STATUS, error_middleware, from_rpc
from protos.auth.v1 import auth_pb2, auth_pb2_grpc
from protos.common.v1 import errors_pb2
from services.common import errors
from services.common.credentials import CredentialResolver
from services.common.grpc_server import PUBLIC, GrpcServer, start_grpc_server
from services.common.identity import Principal, TokenSigner

REASONS = [v for v in errors_pb2.ErrorReason.values() if v != errors_pb2.ERROR_REASON_UNSPECIFIED]

# The codes the two references document, with their HTTP status (the Encode API's table, the Media API's list).
ENCODE_DOCUMENTED = {
    "invalid_api_key": 401,
    "api_key_expired": 401,
    "user_not_found": 401,
    "account_banned": 403,
    "missing_required_scope": 403,
    "forbidden": 403,
    "invalid_request": 400,
    "invalid_body": 400,
    "invalid_url": 400,
    "url_ingest_disabled": 403,
    "url_host_blocked": 400,
    "signed_url_required": 400,
    "host_not_resolvable": 400,
    "private_ip_blocked": 400,
    "missing_content_length": 400,
    "file_too_large": 400,
    "unsupported_content_type": 415,
    "probe_failed": 422,
    "insufficient_tokens": 402,
    "idempotency_conflict": 409,
    "idempotency_in_progress": 409,
    "rate_limit_exceeded": 429,
    "not_found": 404,
    "webhook_not_found": 404,
    "no_video_files_found": 404,
    "deprecated_dropbox": 410,
    "google_drive_not_connected": 401,
    "dropbox_not_connected": 401,
    "webhook_limit_exceeded": 409,
    "no_updates_provided": 400,
    "output_not_available": 409,
    "job_active": 409,
    "job_files_delete_failed": 500,
}
MEDIA_DOCUMENTED = {
    "AUTH_REQUIRED": 401,
    "AUTH_INVALID": 401,
    "AUTH_EXPIRED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_NOT_FOUND": 404,
    "VALIDATION_ERROR": 400,
    "RATE_LIMIT_EXCEEDED": 429,
    "SERVER_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
}
CATEGORY = {
    401: errors.Unauthenticated,
    402: errors.PaymentRequired,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    405: errors.FailedPrecondition,
    409: errors.Conflict,
    410: errors.FailedPrecondition,
    413: errors.InvalidArgument,
    415: errors.InvalidArgument,
    422: errors.InvalidArgument,
    429: errors.ResourceExhausted,
    500: errors.DomainError,
    503: errors.Unavailable,
    504: errors.Unavailable,
}


def test_every_reason_has_a_public_code_in_both_dialects() -> None:
    assert set(CODES) == set(REASONS)
    for status, encode, media in CODES.values():
        assert 400 <= status < 600 and encode == encode.lower() and media == media.upper()


def test_every_documented_code_is_produced_with_its_documented_status() -> None:
    produced_encode = {(code, status) for status, code, _ in CODES.values()}
    for code, status in ENCODE_DOCUMENTED.items():
        assert (code, status) in produced_encode, code
    for code, status in MEDIA_DOCUMENTED.items():
        statuses = {s for s, _, m in CODES.values() if m == code}
        assert status in statuses or (code == "VALIDATION_ERROR" and 400 in statuses), code


def test_every_grpc_code_has_an_http_status() -> None:
    assert set(HTTP_STATUS) == set(grpc.StatusCode)
    assert HTTP_STATUS[grpc.StatusCode.FAILED_PRECONDITION] == 400
    assert HTTP_STATUS[grpc.StatusCode.UNAUTHENTICATED] == 401
    assert HTTP_STATUS[grpc.StatusCode.CANCELLED] == 499


class _Raising(auth_pb2_grpc.AuthServiceServicer):
    """Raises the domain error named by the request (the reason's name)."""

    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> auth_pb2.AuthenticateResponse:
        reason = errors_pb2.ErrorReason.Value(request.credential)
        status = CODES[reason][0]
        raise CATEGORY.get(status, errors.InvalidArgument)(
            f"failed with {request.credential}",
            reason=reason,
            metadata={"requiredScope": "jobs:read"} if reason == errors_pb2.SCOPE_MISSING else None,
            violations=[errors.FieldViolation("codec", "bad")] if reason == errors_pb2.BODY_INVALID else (),
        )


async def _no_api_keys(_credential: str) -> tuple[Principal, str, float]:
    raise errors.Unauthenticated("The API key is not valid.", reason=errors.R.API_KEY_INVALID)


@pytest.fixture
async def raising_server(tracer_provider: TracerProvider) -> AsyncIterator[GrpcServer]:
    server = await start_grpc_server(
        listen="127.0.0.1:0",
        domain="test",
        tracer_provider=tracer_provider,
        resolver=CredentialResolver(TokenSigner(b"k"), _no_api_keys),
        policies={"/vidkiln.auth.v1.AuthService/Authenticate": PUBLIC},
        register=lambda s: auth_pb2_grpc.add_AuthServiceServicer_to_server(_Raising(), s),  # type: ignore[abstract]
        service_names=["vidkiln.auth.v1.AuthService"],
    )
    yield server
    await server.stop(0)


@pytest.fixture
async def client(raising_server: GrpcServer) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{raising_server.port}")
    stub = auth_pb2_grpc.AuthServiceStub(channel)

    async def call(request: web.Request) -> web.Response:
        await stub.Authenticate(auth_pb2.AuthenticateRequest(credential=request.match_info["reason"]), timeout=5)
        return web.json_response({})

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/encode/{reason}", call)
    app.router.add_get("/api/v1/media/{reason}", call)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
    await channel.close()


@pytest.mark.parametrize("reason", REASONS, ids=errors_pb2.ErrorReason.Name)
async def test_reason_travels_from_a_service_to_both_dialects(
    client: TestClient[web.Request, web.Application], reason: errors.Reason
) -> None:
    name = errors_pb2.ErrorReason.Name(reason)
    status, encode_code, media_code = CODES[reason]

    resp = await client.get(f"/encode/{name}")
    body = await resp.json()
    assert resp.status == status
    assert body["code"] == encode_code
    assert body["message"] == (f"failed with {name}" if status < 500 else "The server could not complete the request.")
    if reason == errors_pb2.SCOPE_MISSING:
        assert body["requiredScope"] == "jobs:read"
    if reason == errors_pb2.BODY_INVALID:
        assert body["issues"] == [{"path": ["codec"], "message": "bad"}]

    resp = await client.get(f"/api/v1/media/{name}")
    body = await resp.json()
    assert resp.status == status
    assert body["success"] is False
    assert body["error"]["code"] == media_code
    if reason == errors_pb2.BODY_INVALID:
        assert body["error"]["details"] == {"codec": ["bad"]}


async def test_a_status_without_error_info_maps_by_its_code() -> None:
    async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:  # nothing listens there
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Authenticate(auth_pb2.AuthenticateRequest(), timeout=2)
    err = from_rpc(caught.value)
    assert (err.status, err.reason) == (503, errors_pb2.UNAVAILABLE)
