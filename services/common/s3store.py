"""Customer S3 buckets (AWS or any S3-compatible endpoint): checked at submit, read as sources, written as outputs.

Synchronous around one boto3 client; callers run it in a worker thread (asyncio.to_thread). A customer-supplied
endpoint passes the same address guard as any outbound URL (`check_endpoint`), and every botocore failure leaves
as a DomainError (`storage_error`): refused credentials and missing buckets or objects are the caller's to fix,
an unreachable or failing endpoint is a transient SourceError. Neither the secret key nor the access key id ever
appears in a message.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config
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
from services.common.netguard import AddressPolicy, GuardError, check_url

logger = logging.getLogger(__name__)

MiB = 1 << 20
_CHUNK = MiB
_RETRIES = 3
_DENIED = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled", "403"})
_MISSING = frozenset({"NoSuchBucket", "NoSuchKey", "NotFound", "404"})
# S3 error codes are identifiers; anything else a server sends in their place is not repeated to the user.
_SAFE_CODE = re.compile(r"[A-Za-z0-9.]{1,64}")


@dataclass(frozen=True)
class S3Config:
    """Where a customer's objects live and the keys to reach them; without keys, requests go unsigned."""

    bucket: str
    region: str = "us-east-1"
    endpoint: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    force_path_style: bool = True


@dataclass(frozen=True)
class ObjectInfo:
    """What S3 tells about one object; listings carry no content type."""

    key: str
    size: int
    content_type: str | None
    etag: str | None
    last_modified: datetime | None


def check_endpoint(cfg: S3Config, policy: AddressPolicy) -> None:
    """Refuses a custom endpoint whose URL or any resolved address the policy does not admit; AWS needs no check."""
    if cfg.endpoint is None:
        return
    url = check_url(cfg.endpoint, policy)
    host = (url.host or "").rstrip(".").lower()
    if policy.allows_host(host):
        return
    try:
        infos = socket.getaddrinfo(host, url.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise GuardError(f"The host {host!r} could not be resolved.", reason=R.HOST_NOT_RESOLVABLE) from exc
    if not infos:
        raise GuardError(f"The host {host!r} could not be resolved.", reason=R.HOST_NOT_RESOLVABLE)
    for *_, sockaddr in infos:
        policy.check_ip(str(sockaddr[0]))


def _code_and_status(exc: ClientError) -> tuple[str, int]:
    error = exc.response.get("Error", {})
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    code = str(error.get("Code") or status)
    return (code if _SAFE_CODE.fullmatch(code) else str(status)), status


def _where(bucket: str, key: str | None) -> str:
    return f"the object {key!r} in the S3 bucket {bucket!r}" if key is not None else f"the S3 bucket {bucket!r}"


def _client_error(exc: ClientError, bucket: str, key: str | None) -> DomainError:
    code, status = _code_and_status(exc)
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
        return InvalidArgument(f"The S3 bucket {bucket!r} has no object {key!r}.", reason=R.STORAGE_NOT_FOUND)
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
def _mapped(bucket: str, key: str | None = None) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        mapped = storage_error(exc, bucket, key)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc


def _info(key: str, meta: dict[str, Any]) -> ObjectInfo:
    """ObjectInfo from a HeadObject/GetObject answer or a listing entry."""
    size = meta.get("ContentLength", meta.get("Size"))
    etag = meta.get("ETag")
    return ObjectInfo(
        key=key,
        size=int(size or 0),
        content_type=meta.get("ContentType"),
        etag=etag.strip('"') if isinstance(etag, str) else None,
        last_modified=meta.get("LastModified"),
    )


def _too_large(key: str, max_bytes: int) -> InvalidArgument:
    return InvalidArgument(f"The S3 object {key!r} is larger than {max_bytes} bytes.", reason=R.FILE_TOO_LARGE)


def _stream(resp: dict[str, Any], key: str, part: Path, max_bytes: int) -> int:
    """Writes a GetObject body to part in chunks, refusing before the first byte if S3 announces too much."""
    if int(resp.get("ContentLength") or 0) > max_bytes:
        raise _too_large(key, max_bytes)
    written = 0
    with open(part, "wb") as out:
        for chunk in resp["Body"].iter_chunks(_CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise _too_large(key, max_bytes)
            out.write(chunk)
    return written


def _guarded(progress: Callable[[int], None]) -> Callable[[int], None]:
    def report(sent: int) -> None:
        try:
            progress(sent)
        except Exception:
            logger.exception("An upload progress callback failed.")

    return report


def _client_config(cfg: S3Config, connect_timeout: float, read_timeout: float) -> Config:
    signed = cfg.access_key_id is not None
    return Config(
        region_name=cfg.region,
        signature_version="s3v4" if signed else UNSIGNED,
        s3={"addressing_style": "path" if cfg.force_path_style else "virtual"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": _RETRIES, "mode": "standard"},
        # The endpoint is the customer's alone: no AWS_ENDPOINT_URL*, no proxy from the environment (a proxy
        # would resolve the host past check_endpoint).
        ignore_configured_endpoint_urls=True,
        proxies={},
        # Checksums only where S3 demands them: many S3-compatible stores reject the newer default trailers.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


class S3Store:
    """One customer bucket through one boto3 client (thread-safe once built)."""

    def __init__(
        self,
        cfg: S3Config,
        *,
        policy: AddressPolicy,
        connect_timeout: float = 10,
        read_timeout: float = 30,
        multipart_threshold: int = 8 * MiB,
        part_size: int = 8 * MiB,
    ) -> None:
        if (cfg.access_key_id is None) != (cfg.secret_access_key is None):
            raise InvalidArgument("The S3 access key id and secret access key go together: give both or neither.")
        check_endpoint(cfg, policy)
        self.cfg = cfg
        # A session of its own: a customer's store never falls back to vidkiln's own AWS credentials.
        # Empty keys for unsigned requests are still explicit, so no credential chain is consulted either.
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=cfg.endpoint,
            aws_access_key_id=cfg.access_key_id or "",
            aws_secret_access_key=cfg.secret_access_key or "",
            config=_client_config(cfg, connect_timeout, read_timeout),
        )
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=part_size,
            max_concurrency=4,
            preferred_transfer_client="classic",
        )

    @property
    def bucket(self) -> str:
        return self.cfg.bucket

    def head(self, key: str) -> ObjectInfo:
        with _mapped(self.bucket, key):
            return _info(key, self._client.head_object(Bucket=self.bucket, Key=key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under prefix, page after page; "directory" placeholder keys (ending in /) are skipped."""
        paginator = self._client.get_paginator("list_objects_v2")
        with _mapped(self.bucket):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for entry in page.get("Contents", ()):
                    if not entry["Key"].endswith("/"):
                        yield _info(entry["Key"], entry)

    def check_readable(self, key: str | None = None, prefix: str | None = None) -> None:
        """The submit-time check: HEAD the key, or list one page under the prefix (which must hold an object)."""
        if key is not None:
            self.head(key)
            return
        with _mapped(self.bucket):
            page = self._client.list_objects_v2(Bucket=self.bucket, Prefix=prefix or "")
        if not any(not entry["Key"].endswith("/") for entry in page.get("Contents", ())):
            raise InvalidArgument(
                f"Found no objects under {prefix or ''!r} in the S3 bucket {self.bucket!r}.",
                reason=R.STORAGE_NOT_FOUND,
            )

    def check_writable(self) -> None:
        """The bucket exists and takes the credentials (HeadBucket: no side effect, nothing written)."""
        with _mapped(self.bucket):
            self._client.head_bucket(Bucket=self.bucket)

    def download(self, key: str, dest: Path, *, max_bytes: int) -> ObjectInfo:
        """Streams the object to dest chunk by chunk; on any failure nothing is left at dest."""
        part = dest.with_name(dest.name + ".part")
        with _mapped(self.bucket, key):
            resp = self._client.get_object(Bucket=self.bucket, Key=key)
            try:
                written = _stream(resp, key, part, max_bytes)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            finally:
                resp["Body"].close()
        os.replace(part, dest)
        return _info(key, {**resp, "ContentLength": written})

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to length bytes from start: fewer at the end of the object, none past it."""
        if start < 0 or length <= 0:
            raise ValueError("read_range needs start >= 0 and length > 0.")
        with _mapped(self.bucket, key):
            try:
                resp = self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}")
            except ClientError as exc:
                if _code_and_status(exc)[1] == 416:  # InvalidRange: start lies past the end
                    return b""
                raise
            body = resp["Body"]
            try:
                data: bytes = body.read(length)  # never more than length, even from a server ignoring Range
            finally:
                body.close()
        return data

    def upload(
        self, path: Path, key: str, content_type: str, *, progress: Callable[[int], None] | None = None
    ) -> ObjectInfo:
        """boto3's managed transfer: multipart above the threshold, and a failed multipart upload is aborted.

        progress, if given, is called from the transfer threads with each number of bytes sent; its failures
        are logged and otherwise ignored (s3transfer would leave a part's file open if it raised).
        """
        with _mapped(self.bucket, key):
            self._client.upload_file(
                str(path),
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type},
                Callback=None if progress is None else _guarded(progress),
                Config=self._transfer,
            )
        return self.head(key)

    def delete(self, key: str) -> None:
        """Removes the object; a key that is already gone is not an error (S3 semantics)."""
        with _mapped(self.bucket, key):
            self._client.delete_object(Bucket=self.bucket, Key=key)
