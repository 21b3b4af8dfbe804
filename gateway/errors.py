"""Errors at the edge: gRPC status -> HTTP status, reason -> each dialect's public code, one middleware."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from aiohttp import web
from opentelemetry import trace

from protos.common.v1 import errors_pb2
from services.common.errors import DomainError, FieldViolation, R, Reason
from services.common.grpc_client import peer_error

logger = logging.getLogger(__name__)

# grpc-gateway's HTTPStatusFromCode: used when a reason has no status of its own.
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}

# Reason -> (HTTP status, Encode API code, Media API code).
CODES: dict[Reason, tuple[int, str, str]] = {
    R.CREDENTIALS_MISSING: (401, "invalid_api_key", "AUTH_REQUIRED"),
    R.API_KEY_INVALID: (401, "invalid_api_key", "AUTH_INVALID"),
    R.API_KEY_EXPIRED: (401, "api_key_expired", "AUTH_EXPIRED"),
    R.TOKEN_INVALID: (401, "invalid_api_key", "AUTH_INVALID"),
    R.TOKEN_EXPIRED: (401, "api_key_expired", "AUTH_EXPIRED"),
    R.USER_NOT_FOUND: (401, "user_not_found", "AUTH_INVALID"),
    R.ACCOUNT_BANNED: (403, "account_banned", "PERMISSION_DENIED"),
    R.SCOPE_MISSING: (403, "missing_required_scope", "PERMISSION_DENIED"),
    R.FORBIDDEN: (403, "forbidden", "PERMISSION_DENIED"),
    R.EMAIL_NOT_VERIFIED: (403, "forbidden", "PERMISSION_DENIED"),
    R.REQUEST_INVALID: (400, "invalid_request", "VALIDATION_ERROR"),
    R.BODY_INVALID: (400, "invalid_body", "VALIDATION_ERROR"),
    R.URL_INVALID: (400, "invalid_url", "VALIDATION_ERROR"),
    R.URL_INGEST_DISABLED: (403, "url_ingest_disabled", "PERMISSION_DENIED"),
    R.URL_HOST_BLOCKED: (400, "url_host_blocked", "VALIDATION_ERROR"),
    R.SIGNED_URL_REQUIRED: (400, "signed_url_required", "VALIDATION_ERROR"),
    R.HOST_NOT_RESOLVABLE: (400, "host_not_resolvable", "VALIDATION_ERROR"),
    R.PRIVATE_IP_BLOCKED: (400, "private_ip_blocked", "VALIDATION_ERROR"),
    R.CONTENT_LENGTH_MISSING: (400, "missing_content_length", "VALIDATION_ERROR"),
    R.FILE_TOO_LARGE: (400, "file_too_large", "VALIDATION_ERROR"),
    R.CONTENT_TYPE_UNSUPPORTED: (415, "unsupported_content_type", "VALIDATION_ERROR"),
    R.PAYLOAD_TOO_LARGE: (413, "payload_too_large", "VALIDATION_ERROR"),
    R.NO_UPDATES_PROVIDED: (400, "no_updates_provided", "VALIDATION_ERROR"),
    R.OPTIONS_INCOMPATIBLE: (400, "incompatible_options", "VALIDATION_ERROR"),
    R.SOURCE_UNREACHABLE: (400, "source_unreachable", "VALIDATION_ERROR"),
    R.PROBE_FAILED: (422, "probe_failed", "VALIDATION_ERROR"),
    R.DECODE_FAILED: (422, "decode_failed", "VALIDATION_ERROR"),
    R.NO_VIDEO_STREAM: (422, "no_video_stream", "VALIDATION_ERROR"),
    R.ENCODE_FAILED: (500, "encode_failed", "SERVER_ERROR"),
    R.ENCODE_TIMEOUT: (500, "encode_timeout", "SERVER_ERROR"),
    R.OUTPUT_WRITE_FAILED: (500, "output_write_failed", "SERVER_ERROR"),
    R.RETRIES_EXHAUSTED: (500, "retries_exhausted", "SERVER_ERROR"),
    R.TOKENS_INSUFFICIENT: (402, "insufficient_tokens", "INSUFFICIENT_CREDITS"),
    R.IDEMPOTENCY_CONFLICT: (409, "idempotency_conflict", "CONFLICT"),
    R.IDEMPOTENCY_IN_PROGRESS: (409, "idempotency_in_progress", "CONFLICT"),
    R.RATE_LIMITED: (429, "rate_limit_exceeded", "RATE_LIMIT_EXCEEDED"),
    R.JOB_NOT_FOUND: (404, "not_found", "RESOURCE_NOT_FOUND"),
    R.WEBHOOK_NOT_FOUND: (404, "webhook_not_found", "RESOURCE_NOT_FOUND"),
    R.FILE_NOT_FOUND: (404, "not_found", "RESOURCE_NOT_FOUND"),
    R.API_KEY_NOT_FOUND: (404, "not_found", "RESOURCE_NOT_FOUND"),
    R.CREDENTIAL_NOT_FOUND: (404, "not_found", "RESOURCE_NOT_FOUND"),
    R.ACCOUNT_NOT_FOUND: (404, "not_found", "RESOURCE_NOT_FOUND"),
    R.ROUTE_NOT_FOUND: (404, "not_found", "RESOURCE_NOT_FOUND"),
    R.NO_VIDEO_FILES_FOUND: (404, "no_video_files_found", "RESOURCE_NOT_FOUND"),
    R.OUTPUT_NOT_AVAILABLE: (409, "output_not_available", "CONFLICT"),
    R.JOB_ACTIVE: (409, "job_active", "CONFLICT"),
    R.JOB_FILES_DELETE_FAILED: (500, "job_files_delete_failed", "SERVER_ERROR"),
    R.JOB_NOT_CANCELABLE: (409, "job_not_cancelable", "CONFLICT"),
    R.WEBHOOK_LIMIT_EXCEEDED: (409, "webhook_limit_exceeded", "CONFLICT"),
    R.CREDENTIAL_LIMIT_EXCEEDED: (409, "credential_limit_exceeded", "CONFLICT"),
    R.ALREADY_EXISTS: (409, "already_exists", "CONFLICT"),
    R.DROPBOX_DEPRECATED: (410, "deprecated_dropbox", "GONE"),
    R.GOOGLE_DRIVE_NOT_CONNECTED: (401, "google_drive_not_connected", "AUTH_REQUIRED"),
    R.DROPBOX_NOT_CONNECTED: (401, "dropbox_not_connected", "AUTH_REQUIRED"),
    R.STORAGE_ACCESS_DENIED: (403, "storage_access_denied", "FORBIDDEN"),
    R.STORAGE_NOT_FOUND: (404, "storage_not_found", "RESOURCE_NOT_FOUND"),
    R.METHOD_NOT_ALLOWED: (405, "method_not_allowed", "METHOD_NOT_ALLOWED"),
    R.INTERNAL: (500, "internal_error", "SERVER_ERROR"),
    R.UNAVAILABLE: (503, "service_unavailable", "SERVICE_UNAVAILABLE"),
    R.DEADLINE_EXCEEDED: (504, "timeout", "SERVICE_UNAVAILABLE"),
}

# A status without ErrorInfo (a peer that is down, a deadline): the reason its code implies.
_REASON_OF_CODE: dict[grpc.StatusCode, Reason] = {
    grpc.StatusCode.UNAVAILABLE: R.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: R.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNAUTHENTICATED: R.CREDENTIALS_MISSING,
    grpc.StatusCode.PERMISSION_DENIED: R.FORBIDDEN,
    grpc.StatusCode.NOT_FOUND: R.ROUTE_NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT: R.REQUEST_INVALID,
    grpc.StatusCode.RESOURCE_EXHAUSTED: R.RATE_LIMITED,
}
_GENERIC_5XX = "The server could not complete the request."


@dataclass
class ApiError:
    """An error on its way out, independent of dialect."""

    status: int
    reason: Reason
    message: str
    metadata: dict[str, str] = field(default_factory=dict)
    violations: list[FieldViolation] = field(default_factory=list)

    @property
    def reason_name(self) -> str:
        return errors_pb2.ErrorReason.Name(self.reason)


def from_domain(exc: DomainError) -> ApiError:
    status = CODES.get(exc.reason, (500, "", ""))[0]
    return ApiError(status, exc.reason, exc.message, dict(exc.metadata), list(exc.violations))


def from_rpc(exc: grpc.aio.AioRpcError) -> ApiError:
    """The peer's reason, metadata and field violations; for a bare status, the reason its code implies."""
    code = exc.code()
    err = peer_error(exc)
    if err is None:
        reason = _REASON_OF_CODE.get(code, R.INTERNAL)
        return ApiError(
            CODES[reason][0] if reason in CODES else HTTP_STATUS.get(code, 500), reason, exc.details() or ""
        )
    http = CODES[err.reason][0] if err.reason in CODES else HTTP_STATUS.get(code, 500)
    return ApiError(http, err.reason, err.message, dict(err.metadata), list(err.violations))


_HTTP_REASONS = {404: R.ROUTE_NOT_FOUND, 405: R.METHOD_NOT_ALLOWED, 413: R.PAYLOAD_TOO_LARGE}


def from_http(exc: web.HTTPException) -> ApiError:
    reason = _HTTP_REASONS.get(exc.status, R.REQUEST_INVALID if exc.status < 500 else R.INTERNAL)
    messages = {
        R.ROUTE_NOT_FOUND: "No such route.",
        R.METHOD_NOT_ALLOWED: f"{exc.reason}.",
        R.PAYLOAD_TOO_LARGE: "The request body is too large.",
    }
    return ApiError(exc.status, reason, messages.get(reason, exc.reason))


def _path(dotted: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in dotted.split(".") if p]


def encode_body(err: ApiError) -> dict[str, Any]:
    """`{"code", "message", ...}` with the contract's extra fields where they apply."""
    body: dict[str, Any] = {
        "code": CODES.get(err.reason, (0, "internal_error", ""))[1],
        "message": err.message,
    }
    if err.violations:
        body["issues"] = [{"path": _path(v.field), "message": v.description} for v in err.violations]
    if "requiredScope" in err.metadata:
        body["requiredScope"] = err.metadata["requiredScope"]
    for number in ("required", "available"):
        if number in err.metadata:
            body[number] = float(err.metadata[number])
    return body


def media_body(err: ApiError) -> dict[str, Any]:
    """`{"success": false, "error": {"code", "message", "details"}}`."""
    details: Any = None
    if err.violations:
        grouped: dict[str, list[str]] = {}
        for v in err.violations:
            grouped.setdefault(v.field, []).append(v.description)
        details = grouped
    elif err.metadata:
        details = dict(err.metadata)
    code = CODES.get(err.reason, (0, "", "SERVER_ERROR"))[2]
    return {"success": False, "error": {"code": code, "message": err.message, "details": details}}


def is_media(request: web.Request) -> bool:
    return request.path == "/api/v1" or request.path.startswith("/api/v1/")


def error_response(request: web.Request, err: ApiError) -> web.Response:
    if err.status >= 500:
        trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
        logger.error(
            "%s %s failed: %s %s (trace %s)",
            request.method,
            request.path,
            err.reason_name,
            err.message,
            trace_id,
        )
        err.message = _GENERIC_5XX
        err.violations, err.metadata = [], {}
    body = media_body(err) if is_media(request) else encode_body(err)
    response = web.json_response(body, status=err.status)
    if err.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="vidkiln"'
    elif err.status == 503:
        response.headers["Retry-After"] = "1"
    return response


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place errors become responses, in the dialect of the route that was called."""
    try:
        return await handler(request)
    except DomainError as exc:
        return error_response(request, from_domain(exc))
    except grpc.aio.AioRpcError as exc:
        return error_response(request, from_rpc(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, from_http(exc))
    except Exception:
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(request, ApiError(500, R.INTERNAL, _GENERIC_5XX))
