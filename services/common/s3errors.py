"""What a failed S3 request means, as a DomainError: boto3 and botocore failures mapped for the S3 stores.

Refused credentials and missing buckets or objects are the caller's to fix (InvalidArgument, ObjectMissing), an
unreachable or failing endpoint is a SourceError (transient when trying again may help). Messages name the bucket
and key, never a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from boto3.exceptions import Boto3Error
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    ParamValidationError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from services.common.errors import DomainError, InvalidArgument, R
from services.common.http_source import SourceError

_DENIED = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled", "403"})
_MISSING = frozenset({"NoSuchBucket", "NoSuchKey", "NotFound", "404"})
# S3 error codes are identifiers; anything else a server sends in their place is not repeated to the user.
SAFE_CODE = re.compile(r"[A-Za-z0-9.]{1,64}")


class ObjectMissing(InvalidArgument):
    """The bucket answered, and has no object under the key (STORAGE_NOT_FOUND, as a missing bucket)."""

    default_reason = R.STORAGE_NOT_FOUND


def code_and_status(exc: ClientError) -> tuple[str, int]:
    """The S3 error code (or the HTTP status, when the code is not an identifier) and the HTTP status."""
    error = exc.response.get("Error", {})
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    code = str(error.get("Code") or status)
    return (code if SAFE_CODE.fullmatch(code) else str(status)), status


def _where(bucket: str, key: str | None) -> str:
    return f"the object {key!r} in the S3 bucket {bucket!r}" if key is not None else f"the S3 bucket {bucket!r}"


def _client_error(exc: ClientError, bucket: str, key: str | None) -> DomainError:
    code, status = code_and_status(exc)
    answer = f"HTTP {status}" if code == str(status) else f"{code}, HTTP {status}"
    if code in _DENIED or status == 403:
        on_object = f" for the object {key!r}" if key is not None else ""
        return InvalidArgument(
            f"The S3 bucket {bucket!r} refused the credentials{on_object} ({answer}).",
            reason=R.STORAGE_ACCESS_DENIED,
        )
    missing = code in _MISSING or status == 404
    if code == "NoSuchBucket" or (missing and key is None):
        return InvalidArgument(f"The S3 bucket {bucket!r} does not exist.", reason=R.STORAGE_NOT_FOUND)
    if missing:
        return ObjectMissing(f"The S3 bucket {bucket!r} has no object {key!r}.")
    transient = status >= 500 or status in (408, 425, 429) or code in ("SlowDown", "RequestTimeout")
    return SourceError(
        f"The S3 endpoint failed the request for {_where(bucket, key)} ({answer}).",
        reason=R.SOURCE_UNREACHABLE,
        transient=transient,
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """exc, and what boto3's own wrappers (S3UploadFailedError around a ClientError) were raised from or during."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = (current.__cause__ or current.__context__) if isinstance(current, Boto3Error) else None


def storage_error(exc: BaseException, bucket: str, key: str | None = None) -> DomainError | None:
    """The DomainError for a boto3/botocore failure about bucket (and key); None if exc is none of theirs."""
    for cause in _causes(exc):
        if isinstance(cause, DomainError):
            return cause
        if isinstance(cause, ClientError):
            return _client_error(cause, bucket, key)
        if isinstance(cause, BotoConnectionError | HTTPClientError | IncompleteReadError):
            return SourceError(
                f"The S3 endpoint could not be reached for {_where(bucket, key)} ({cause.__class__.__name__}).",
                reason=R.SOURCE_UNREACHABLE,
                transient=True,
            )
        if isinstance(cause, ParamValidationError):
            return InvalidArgument(f"The S3 bucket name {bucket!r} or the key {key!r} is not valid.")
        if isinstance(cause, BotoCoreError):
            return SourceError(
                f"The S3 request for {_where(bucket, key)} failed ({cause.__class__.__name__}).",
                reason=R.SOURCE_UNREACHABLE,
            )
    return None


@contextmanager
def mapped(bucket: str, key: str | None = None) -> Iterator[None]:
    """Any boto3/botocore failure inside the block leaves as its DomainError (`storage_error`)."""
    try:
        yield
    except Exception as exc:
        error = storage_error(exc, bucket, key)
        if error is None or error is exc:
            raise
        raise error from exc
