"""How Google Drive failures reach API users: DomainErrors with the storage reasons, never a token."""

from __future__ import annotations

import http.client
import json
from typing import Any

import google.auth.exceptions
import httplib2
from googleapiclient.errors import HttpError

from services.common.errors import DomainError, InvalidArgument, NotFound, PermissionDenied, R
from services.common.http_source import SourceError

NOT_CONNECTED = "The Google Drive access token is missing, invalid or expired."
SA_REFUSED = "Google refused the saved service account credential (a deleted or disabled key?)."
_RATE_LIMITED = frozenset({"userRateLimitExceeded", "rateLimitExceeded", "sharingRateLimitExceeded"})
_TRANSPORT_ERRORS = (OSError, httplib2.HttpLib2Error, http.client.HTTPException, google.auth.exceptions.TransportError)
DRIVE_ERRORS = (HttpError, google.auth.exceptions.RefreshError, *_TRANSPORT_ERRORS)


def _not_connected() -> InvalidArgument:
    return InvalidArgument(NOT_CONNECTED, reason=R.GOOGLE_DRIVE_NOT_CONNECTED)


def unreachable(message: str) -> SourceError:
    return SourceError(message, reason=R.SOURCE_UNREACHABLE, transient=True)


def _error_reasons(content: Any) -> frozenset[str]:
    """The `reason`s of Google's JSON error envelope (empty when the body is something else)."""
    try:
        errors = json.loads(content)["error"]["errors"]
        return frozenset(str(item["reason"]) for item in errors if isinstance(item, dict) and "reason" in item)
    except (ValueError, TypeError, KeyError):
        return frozenset()


def _status_error(status: int, reasons: frozenset[str], subject: str) -> DomainError:
    if status == 401:
        return _not_connected()
    if status >= 500 or status in (408, 425, 429) or (status == 403 and reasons & _RATE_LIMITED):
        return unreachable(f"Google Drive answered HTTP {status}; try again later.")
    if status == 403:
        if "storageQuotaExceeded" in reasons:
            return PermissionDenied("The Google Drive storage quota is exhausted.", reason=R.STORAGE_ACCESS_DENIED)
        if "fileNotDownloadable" in reasons:
            return InvalidArgument(
                f"The Google Drive {subject} has no content to download.", reason=R.CONTENT_TYPE_UNSUPPORTED
            )
        return PermissionDenied(f"Google Drive denies access to the {subject}.", reason=R.STORAGE_ACCESS_DENIED)
    if status == 404:
        return NotFound(
            f"The Google Drive {subject} does not exist or is not shared with this account.",
            reason=R.STORAGE_NOT_FOUND,
        )
    return InvalidArgument(f"Google Drive refused the request for the {subject} (HTTP {status}).")


def drive_error(exc: BaseException, subject: str) -> DomainError:
    """The DomainError for a failed Drive call; `subject` names what was asked for ("file 1AbC").

    401 or a refused token refresh: GOOGLE_DRIVE_NOT_CONNECTED; 403: STORAGE_ACCESS_DENIED; 404:
    STORAGE_NOT_FOUND; 5xx, 408/429, rate limits, timeouts and connection errors: a transient
    SourceError (SOURCE_UNREACHABLE). Messages are for the API user and never carry a token.
    """
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, HttpError):
        return _status_error(int(exc.resp.status), _error_reasons(exc.content), subject)
    if isinstance(exc, google.auth.exceptions.RefreshError):
        if getattr(exc, "retryable", False):
            return unreachable("Google's token service is unavailable; try again later.")
        return _not_connected()
    if isinstance(exc, TimeoutError):
        return unreachable("Google Drive did not answer in time.")
    return unreachable(f"Google Drive could not be reached: {exc.__class__.__name__}.")
