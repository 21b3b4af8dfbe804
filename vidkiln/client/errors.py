"""The SDK's exceptions: an HTTP error of either dialect as one `APIError` carrying the platform's stable code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One field the server refused: its path in the body or query, and why."""

    path: tuple[str | int, ...]
    message: str


class VidkilnError(Exception):
    """The base of every exception this SDK raises."""


class APIConnectionError(VidkilnError):
    """The platform could not be reached, or the connection broke, and retrying did not help."""


class APIError(VidkilnError):
    """An error answer: `status`, the stable `code` (`not_found`, `RESOURCE_NOT_FOUND`, ...), `message`, and what
    the dialect adds (`issues` for validation errors, `required_scope`, `required`/`available` credits)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        issues: tuple[Issue, ...] = (),
        required_scope: str | None = None,
        required: float | None = None,
        available: float | None = None,
        retry_after: float | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.details, self.issues, self.required_scope = details, issues, required_scope
        self.required, self.available, self.retry_after = required, available, retry_after
        self.body, self.headers = body, dict(headers or {})


class BadRequestError(APIError):
    """400: the request was refused as it is (see `code` and `issues`)."""


class AuthenticationError(APIError):
    """401: no credentials, or ones the platform does not accept (unknown, expired, revoked)."""


class InsufficientTokensError(APIError):
    """402: not enough credits (`required`, `available`)."""


class PermissionDeniedError(APIError):
    """403: the credentials lack what the route needs (`required_scope` when it is a scope)."""


class NotFoundError(APIError):
    """404: no such resource, or another account's."""


class ConflictError(APIError):
    """409: the resource's state forbids it now, or an Idempotency-Key was reused with another body."""


class GoneError(APIError):
    """410: a feature that is no longer offered (Dropbox)."""


class UnprocessableError(APIError):
    """422: the request was understood but its content cannot be processed (a source that does not probe)."""


class RateLimitError(APIError):
    """429: over a rate limit; `retry_after` seconds until the next request is allowed."""


class ServerError(APIError):
    """5xx: the platform failed; the message is generic (the trace id is in the platform's log)."""


class ServiceUnavailableError(ServerError):
    """503: a service behind the gateway is down for now; `retry_after` says when to try again."""


class JobFailedError(VidkilnError):
    """A job waited for ended `failed` or `canceled`; `job` is its last status, `code` its failure code."""

    def __init__(self, job: Any, status: str, code: str | None, message: str | None) -> None:
        super().__init__(f"job ended {status}: {code or 'no code'}: {message or 'no message'}")
        self.job, self.status, self.code, self.message = job, status, code, message


class WaitTimeoutError(VidkilnError, TimeoutError):
    """`wait()` gave up before the job reached a terminal status; `job` is the last status seen."""

    def __init__(self, message: str, job: Any) -> None:
        super().__init__(message)
        self.job = job


class WebhookVerificationError(VidkilnError):
    """A webhook delivery whose signature does not verify (wrong secret, altered body, or a replay)."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientTokensError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: UnprocessableError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _media_issues(details: Any) -> tuple[Issue, ...]:
    """The Media API's `details` of a validation error: `{field: [message, ...]}`."""
    if not isinstance(details, dict):
        return ()
    return tuple(
        Issue(tuple(str(field).split(".")), str(message))
        for field, messages in details.items()
        if isinstance(messages, list)
        for message in messages
    )


def _encode_issues(issues: Any) -> tuple[Issue, ...]:
    if not isinstance(issues, list):
        return ()
    return tuple(Issue(tuple(i.get("path") or ()), str(i.get("message", ""))) for i in issues if isinstance(i, dict))


def error_from_response(
    status: int, headers: Mapping[str, str], content: bytes, retry_after: float | None = None
) -> APIError:
    """The exception for an error answer in either dialect's body (or none: then the code is `http_<status>`)."""
    try:
        body: Any = json.loads(content) if content else None
    except ValueError:
        body = content.decode("utf-8", "replace")
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else APIError)
    fallback = f"http_{status}"
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and body.get("success") is False:
        error = body["error"]  # the Media API: {"success": false, "error": {"code", "message", "details"}}
        details = error.get("details")
        scope = details.get("requiredScope") if isinstance(details, dict) else None
        return cls(
            status,
            str(error.get("code") or fallback),
            str(error.get("message") or details or ""),
            details=details,
            issues=_media_issues(details),
            required_scope=scope,
            retry_after=retry_after,
            body=body,
            headers=headers,
        )
    if isinstance(body, dict) and "code" in body:  # the Encode API: {"code", "message", "issues"?, ...}
        return cls(
            status,
            str(body["code"]),
            str(body.get("message", "")),
            details=body.get("issues"),
            issues=_encode_issues(body.get("issues")),
            required_scope=body.get("requiredScope"),
            required=_number(body.get("required")),
            available=_number(body.get("available")),
            retry_after=retry_after,
            body=body,
            headers=headers,
        )
    return cls(status, fallback, str(body or ""), retry_after=retry_after, body=body, headers=headers)
