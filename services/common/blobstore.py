"""The platform's own storage for uploads and outputs: a local directory with atomic writes."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
_PARTIAL = ".partial"


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    mtime: float


def check_key(key: str) -> str:
    """The key if it is a safe relative path (no '..', no absolute paths, no hidden segments)."""
    if len(key) > 1024 or not _KEY.fullmatch(key) or ".." in key.split("/"):
        raise ValueError(f"invalid blob key: {key!r}")
    return key


class LocalBlobStore:
    """Keys map to files under root; a blob appears whole or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        (self.root / _PARTIAL).mkdir(parents=True, exist_ok=True)

    def path_of(self, key: str) -> Path:
        """Where a key's bytes live (the file may not exist)."""
        return self.root / check_key(key)

    def scratch_path(self, key: str) -> Path:
        """A fresh scratch file for a future `commit` of this key (on the store's file system)."""
        return self.root / _PARTIAL / f"{_scratch_stem(check_key(key))}.{secrets.token_hex(6)}"

    def commit(self, scratch: Path, key: str) -> None:
        """Makes a finished scratch file the key's content: synced, then renamed (atomic)."""
        final = self.path_of(key)
        with open(scratch, "rb") as f:
            os.fsync(f.fileno())
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch, final)
        _fsync_dir(final.parent)

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
        for leftover in (self.root / _PARTIAL).glob(f"{_scratch_stem(check_key(key))}.*"):
            leftover.unlink(missing_ok=True)

    def stat(self, key: str) -> BlobInfo | None:
        try:
            st = self.path_of(key).stat()
        except FileNotFoundError:
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


def _scratch_stem(key: str) -> str:
    """A fixed-length name per key: no collisions between keys, no over-long file names."""
    return hashlib.sha256(key.encode()).hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
