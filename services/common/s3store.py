"""S3 buckets (AWS or any S3-compatible endpoint): customers' (checked at submit, read as sources, written as
outputs) and, under services/common/s3blobs.py, the platform's own blob store.

Synchronous around one boto3 client; callers run it in a worker thread (asyncio.to_thread). A customer-supplied
endpoint passes the same address guard as any outbound URL (`check_endpoint`); the operator's passes TRUSTED.
Every botocore failure leaves as a DomainError (`storage_error`, services/common/s3errors.py): refused credentials
and missing buckets or objects are the caller's to fix, an unreachable or failing endpoint is a transient
SourceError. Neither the secret key nor the access key id ever appears in a message.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from services.common.errors import InvalidArgument, R
from services.common.http_source import SourceError
from services.common.netguard import AddressPolicy, GuardError, check_url
from services.common.s3errors import SAFE_CODE, code_and_status, mapped

logger = logging.getLogger(__name__)

MiB = 1 << 20
GiB = 1 << 30
_CHUNK = MiB
_DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
_RETRIES = 3


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


def _client_config(cfg: S3Config, connect_timeout: float, read_timeout: float, *, signed: bool) -> Config:
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
        copy_threshold: int = 5 * GiB,
        copy_part_size: int = 512 * MiB,
        credential_chain: bool = False,
    ) -> None:
        """credential_chain: without keys in cfg, requests are signed with boto3's default credential chain
        (environment, profile, instance role) rather than sent unsigned. Only for the platform's own bucket."""
        if (cfg.access_key_id is None) != (cfg.secret_access_key is None):
            raise InvalidArgument("The S3 access key id and secret access key go together: give both or neither.")
        check_endpoint(cfg, policy)
        self.cfg = cfg
        # A session of its own: a customer's store never falls back to vidkiln's own AWS credentials.
        # Empty keys for unsigned requests are still explicit, so no credential chain is consulted either.
        chain = credential_chain and cfg.access_key_id is None
        keys = (
            {}
            if chain
            else {"aws_access_key_id": cfg.access_key_id or "", "aws_secret_access_key": cfg.secret_access_key or ""}
        )
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=cfg.endpoint,
            config=_client_config(cfg, connect_timeout, read_timeout, signed=chain or cfg.access_key_id is not None),
            **keys,
        )
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=part_size,
            max_concurrency=4,
            preferred_transfer_client="classic",
        )
        # Copies run on the server: one CopyObject up to its 5 GiB limit, above it few large parts (each a request).
        self._copy_transfer = TransferConfig(
            multipart_threshold=copy_threshold,
            multipart_chunksize=copy_part_size,
            max_concurrency=8,
            preferred_transfer_client="classic",
        )

    @property
    def bucket(self) -> str:
        return self.cfg.bucket

    def head(self, key: str) -> ObjectInfo:
        with mapped(self.bucket, key):
            return _info(key, self._client.head_object(Bucket=self.bucket, Key=key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under prefix, page after page; "directory" placeholder keys (ending in /) are skipped."""
        paginator = self._client.get_paginator("list_objects_v2")
        with mapped(self.bucket):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for entry in page.get("Contents", ()):
                    if not entry["Key"].endswith("/"):
                        yield _info(entry["Key"], entry)

    def check_readable(self, key: str | None = None, prefix: str | None = None) -> None:
        """The submit-time check: HEAD the key, or list one page under the prefix (which must hold an object)."""
        if key is not None:
            self.head(key)
            return
        with mapped(self.bucket):
            page = self._client.list_objects_v2(Bucket=self.bucket, Prefix=prefix or "")
        if not any(not entry["Key"].endswith("/") for entry in page.get("Contents", ())):
            raise InvalidArgument(
                f"Found no objects under {prefix or ''!r} in the S3 bucket {self.bucket!r}.",
                reason=R.STORAGE_NOT_FOUND,
            )

    def check_writable(self) -> None:
        """The bucket exists and takes the credentials (HeadBucket: no side effect, nothing written)."""
        with mapped(self.bucket):
            self._client.head_bucket(Bucket=self.bucket)

    def download(self, key: str, dest: Path, *, max_bytes: int) -> ObjectInfo:
        """Streams the object to dest chunk by chunk; on any failure nothing is left at dest."""
        part = dest.with_name(dest.name + ".part")
        with mapped(self.bucket, key):
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
        with mapped(self.bucket, key):
            try:
                resp = self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}")
            except ClientError as exc:
                if code_and_status(exc)[1] == 416:  # InvalidRange: start lies past the end
                    return b""
                raise
            body = resp["Body"]
            try:
                data: bytes = body.read(length)  # never more than length, even from a server ignoring Range
            finally:
                body.close()
        return data

    def stream(self, key: str, start: int = 0, length: int | None = None) -> Generator[bytes, None, None]:
        """The object's bytes from start (length of them, else to the end) in chunks of a MiB, over one GET.

        Lazy: the GET goes out when the first chunk is asked for; closing the iterator closes the connection.
        An empty object streams nothing (only a ranged GET of it would be refused)."""
        if start < 0 or (length is not None and length <= 0):
            raise ValueError("stream needs start >= 0 and length > 0.")
        ranged = (
            {}
            if start == 0 and length is None
            else {"Range": f"bytes={start}-{'' if length is None else start + length - 1}"}
        )
        left = length
        with mapped(self.bucket, key):
            body = self._client.get_object(Bucket=self.bucket, Key=key, **ranged)["Body"]
            try:
                for chunk in body.iter_chunks(_CHUNK):
                    if left is not None:  # never more than length, even from a server ignoring Range
                        chunk, left = chunk[:left], left - len(chunk)
                    yield chunk
                    if left is not None and left <= 0:
                        return
            finally:
                body.close()

    def copy(self, source: str, target: str) -> None:
        """A server-side copy in the bucket: boto3's managed copy, multipart (so past 5 GiB) above copy_threshold."""
        with mapped(self.bucket, source):
            self._client.copy({"Bucket": self.bucket, "Key": source}, self.bucket, target, Config=self._copy_transfer)

    def upload(
        self, path: Path, key: str, content_type: str, *, progress: Callable[[int], None] | None = None
    ) -> ObjectInfo:
        """boto3's managed transfer: multipart above the threshold, and a failed multipart upload is aborted.

        progress, if given, is called from the transfer threads with each number of bytes sent; its failures
        are logged and otherwise ignored (s3transfer would leave a part's file open if it raised).
        """
        with mapped(self.bucket, key):
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
        with mapped(self.bucket, key):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def delete_keys(self, keys: Sequence[str]) -> None:
        """Removes the objects, a thousand per request (DeleteObjects); keys already gone are not an error."""
        for first in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": key} for key in keys[first : first + _DELETE_BATCH]]
            with mapped(self.bucket):
                answer = self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            failed = answer.get("Errors") or []
            if failed:
                code = str(failed[0].get("Code", ""))
                raise SourceError(
                    f"The S3 bucket {self.bucket!r} did not delete {len(failed)} of {len(batch)} objects "
                    f"({code if SAFE_CODE.fullmatch(code) else 'no code'}).",
                    reason=R.SOURCE_UNREACHABLE,
                )
