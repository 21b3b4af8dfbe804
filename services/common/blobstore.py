"""The platform's own storage for uploads and outputs: the BlobStore interface, and a local directory (atomic writes).

Keys are relative paths (`outputs/<job>/output.mp4`, `files/sha256/<digest>`). A key may also name a folder: the
keys under `<key>/`, which `listing` walks and `delete` removes with it. Every method blocks (file system or network
I/O): async callers run them in a worker thread. The other implementation is an S3 bucket (services/common/s3blobs.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import shutil
import stat
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
_PARTIAL = ".partial"
CHUNK = 1 << 20


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    mtime: float  # seconds since the epoch of the last write
    etag: str | None = None  # the store's own validator, where it has one (S3)


def check_key(key: str) -> str:
    """The key if it is a safe relative path (no '..', no absolute paths, no hidden segments)."""
    if len(key) > 1024 or not _KEY.fullmatch(key) or ".." in key.split("/"):
        raise ValueError(f"invalid blob key: {key!r}")
    return key


class BlobStore(Protocol):
    """What the services need of the blob store. Invalid keys raise ValueError, missing blobs FileNotFoundError."""

    def stat(self, key: str) -> BlobInfo | None:
        """The blob's size and age; None when there is none under the key."""
        ...

    def local_file(self, key: str) -> AbstractContextManager[Path]:
        """The blob as a readable local file while the context lasts (PyAV and uploads need a real file)."""
        ...

    def read_chunks(self, key: str, start: int = 0, length: int | None = None) -> Generator[bytes, None, None]:
        """The blob's bytes from start (length of them, else to the end), a chunk at a time."""
        ...

    def scratch_path(self, key: str) -> Path:
        """A fresh local scratch file for a future `commit` of this key."""
        ...

    def commit(self, scratch: Path, key: str, *, durable: bool = True) -> None:
        """Makes a finished scratch file the key's content, whole or not at all; the scratch file is gone after.

        durable=False: a local store may skip the fsync (the caller made the bytes durable, or need not)."""
        ...

    def writer(self, key: str) -> AbstractContextManager[Path]:
        """Yields a scratch path; on success it is committed to the key, else removed."""
        ...

    def discard_partials(self, key: str) -> None:
        """Removes scratch files an interrupted writer of this key left behind."""
        ...

    def move(self, source: str, target: str) -> None:
        """Renames a blob (durably); FileNotFoundError when there is none under source."""
        ...

    def listing(self, folder: str) -> Iterator[BlobInfo]:
        """Every blob under `folder/`, at any depth."""
        ...

    def delete(self, key: str) -> None:
        """Removes the blob and everything under `key/`; nothing there is not an error."""
        ...

    def delete_many(self, keys: Iterable[str]) -> int:
        """Deletes each key that holds a blob; how many did."""
        ...


class ScratchWrites(ABC):
    """Scratch files in a local directory, committed to a key by the subclass (the part both stores share)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.scratch.mkdir(parents=True, exist_ok=True)

    def scratch_path(self, key: str) -> Path:
        """A fresh scratch file for a future `commit` of this key."""
        return self.scratch / f"{_scratch_stem(check_key(key))}.{secrets.token_hex(6)}"

    @abstractmethod
    def commit(self, scratch: Path, key: str, *, durable: bool = True) -> None: ...

    @contextmanager
    def writer(self, key: str) -> Iterator[Path]:
        """Yields a scratch path; on success it is committed to the key, else removed."""
        scratch = self.scratch_path(key)
        try:
            yield scratch
            self.commit(scratch, key)
        finally:
            scratch.unlink(missing_ok=True)

    def discard_partials(self, key: str) -> None:
        """Removes scratch files an interrupted writer of this key left behind."""
        for leftover in self.scratch.glob(f"{_scratch_stem(check_key(key))}.*"):
            leftover.unlink(missing_ok=True)


class LocalBlobStore(ScratchWrites):
    """Keys map to files under root; a blob appears whole or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        super().__init__(self.root / _PARTIAL)  # on the store's file system: a commit is a rename

    def path_of(self, key: str) -> Path:
        """Where a key's bytes live (the file may not exist)."""
        return self.root / check_key(key)

    def commit(self, scratch: Path, key: str, *, durable: bool = True) -> None:
        """Synced (when durable), then renamed (atomic), the directory synced."""
        final = self.path_of(key)
        if durable:
            with open(scratch, "rb") as f:
                os.fsync(f.fileno())
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch, final)
        if durable:
            _fsync_dir(final.parent)

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """The file itself: no copy."""
        path = self.path_of(key)
        if not path.is_file():
            raise FileNotFoundError(f"no blob {key!r}")
        yield path

    def read_chunks(self, key: str, start: int = 0, length: int | None = None) -> Generator[bytes, None, None]:
        left = length
        with open(self.path_of(key), "rb") as f:
            f.seek(start)
            while left is None or left > 0:
                chunk = f.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def move(self, source: str, target: str) -> None:
        """Synced (a no-op when it was), renamed (atomic), the directory synced."""
        src, final = self.path_of(source), self.path_of(target)
        with open(src, "rb") as f:
            os.fsync(f.fileno())
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, final)
        _fsync_dir(final.parent)

    def listing(self, folder: str) -> Iterator[BlobInfo]:
        base = self.path_of(folder)
        for path in sorted(base.rglob("*")) if base.is_dir() else ():
            try:
                st = path.stat()
            except FileNotFoundError:  # deleted meanwhile
                continue
            if stat.S_ISREG(st.st_mode):
                yield BlobInfo(key=path.relative_to(self.root).as_posix(), size=st.st_size, mtime=st.st_mtime)

    def stat(self, key: str) -> BlobInfo | None:
        try:
            st = self.path_of(key).stat()
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(st.st_mode):  # a folder of keys is not a blob
            return None
        return BlobInfo(key=key, size=st.st_size, mtime=st.st_mtime)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Deletes each key that exists; how many did."""
        count = 0
        for key in keys:
            if self.stat(key) is not None:
                self.delete(key)
                count += 1
        return count

    def delete(self, key: str) -> None:
        path = self.path_of(key)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


@asynccontextmanager
async def open_local(blobs: BlobStore, key: str) -> AsyncIterator[Path]:
    """`blobs.local_file(key)` entered and left in worker threads (an S3 store downloads and removes a copy)."""
    context = blobs.local_file(key)
    path = await asyncio.to_thread(context.__enter__)
    try:
        yield path
    finally:
        await asyncio.to_thread(context.__exit__, None, None, None)


def _scratch_stem(key: str) -> str:
    """A fixed-length name per key: no collisions between keys, no over-long file names."""
    return hashlib.sha256(key.encode()).hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
