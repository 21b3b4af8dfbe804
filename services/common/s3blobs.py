"""The blob store in an S3 bucket (AWS or any S3-compatible endpoint) the operator configured.

Keys are object keys under an optional prefix. Writes go through a local scratch directory: a committed scratch
file is uploaded (multipart above the threshold) and removed; `local_file` downloads a copy and removes it after;
`move` is a server-side copy, then a delete. S3 writes are atomic per object, so a blob appears whole or not at all.

Failures of the bucket itself (refused credentials, an unreachable endpoint) are the operator's to fix, never the
caller's: they are logged in full and leave as Unavailable, so a request gets a 503 and a task is tried again.
"""

from __future__ import annotations

import logging
import mimetypes
import sys
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from services.common.blobstore import BlobInfo, ScratchWrites, check_key
from services.common.errors import DomainError, R, Unavailable
from services.common.s3errors import ObjectMissing
from services.common.s3store import S3Store

logger = logging.getLogger(__name__)

_FALLBACK_TYPE = "application/octet-stream"


@contextmanager
def _platform_errors(action: str, key: str) -> Iterator[None]:
    """A missing object as FileNotFoundError; any other failure of the bucket as Unavailable."""
    try:
        yield
    except ObjectMissing as exc:
        raise FileNotFoundError(f"no blob {key!r}") from exc
    except DomainError as exc:
        logger.warning("The blob store could not %s %r: %s", action, key, exc.message)
        raise Unavailable("The platform's storage is unavailable; try again later.", reason=R.UNAVAILABLE) from exc


class S3BlobStore(ScratchWrites):
    """Keys map to objects under `prefix` in the store's bucket; scratch files live in a local directory."""

    def __init__(self, store: S3Store, *, scratch: Path, prefix: str = "") -> None:
        super().__init__(scratch)
        self.store = store
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.store.bucket!r}, prefix={self.prefix!r})"

    def _object(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _info(self, obj: str, size: int, modified: float | None, etag: str | None) -> BlobInfo:
        return BlobInfo(key=obj.removeprefix(self.prefix), size=size, mtime=modified or 0.0, etag=etag)

    def stat(self, key: str) -> BlobInfo | None:
        obj = self._object(key)
        try:
            with _platform_errors("stat", key):
                info = self.store.head(obj)
        except FileNotFoundError:
            return None
        modified = info.last_modified.timestamp() if info.last_modified is not None else None
        return self._info(obj, info.size, modified, info.etag)

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """A downloaded copy in the scratch directory, removed when the context ends."""
        copy = self.scratch_path(key)
        try:
            with _platform_errors("download", key):
                self.store.download(self._object(key), copy, max_bytes=sys.maxsize)
            yield copy
        finally:
            copy.unlink(missing_ok=True)

    def read_chunks(self, key: str, start: int = 0, length: int | None = None) -> Generator[bytes, None, None]:
        """Streamed from one (ranged) GET; closing the iterator closes the connection."""
        chunks = self.store.stream(self._object(key), start, length)
        try:
            with _platform_errors("read", key):
                yield from chunks
        finally:
            chunks.close()

    def commit(self, scratch: Path, key: str, *, durable: bool = True) -> None:
        """Uploads the scratch file (an S3 write is durable when acknowledged), then removes it."""
        content_type = mimetypes.guess_type(key)[0] or _FALLBACK_TYPE
        try:
            with _platform_errors("store", key):
                self.store.upload(scratch, self._object(key), content_type)
        finally:
            scratch.unlink(missing_ok=True)

    def move(self, source: str, target: str) -> None:
        """A server-side copy, then the source deleted."""
        src, dst = self._object(source), self._object(target)
        with _platform_errors("move", source):
            self.store.copy(src, dst)
            self.store.delete(src)

    def listing(self, folder: str) -> Iterator[BlobInfo]:
        with _platform_errors("list", folder):
            for info in self.store.list(f"{self._object(folder)}/"):
                modified = info.last_modified.timestamp() if info.last_modified is not None else None
                yield self._info(info.key, info.size, modified, info.etag)

    def delete(self, key: str) -> None:
        obj = self._object(key)
        with _platform_errors("delete", key):
            self.store.delete_keys([obj, *(info.key for info in self.store.list(f"{obj}/"))])

    def delete_many(self, keys: Iterable[str]) -> int:
        """Deletes each key that exists; how many did."""
        present = [self._object(key) for key in keys if self.stat(key) is not None]
        with _platform_errors("delete", f"{len(present)} keys"):
            self.store.delete_keys(present)
        return len(present)
