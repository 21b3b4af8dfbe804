"""Signs of progress of work that reports none: the files a download writes, the file an upload reads.

Storage calls run in threads and offer no progress callback through the layers the encoder calls
(destinations.fetch / deliver, BlobStore.local_file / commit). What they do to the local file is observable
from outside: a download makes it grow, an upload reads it (botocore and the Drive client read the file as
they send it, so the read position follows the bytes that went out).
"""

from __future__ import annotations

import os
from pathlib import Path

from services.common.blobstore import BlobStore, ScratchWrites
from services.encoder.liveness import Probe

_FDS = Path("/proc/self/fd")
_FDINFO = Path("/proc/self/fdinfo")


def sizes(*paths: Path) -> Probe:
    """The sizes of files being written (-1 while absent): a download and the `.part` file it may use."""

    def reading() -> tuple[int, ...]:
        return tuple(_size(path) for path in paths)

    return reading


def scratch_copies(blobs: BlobStore, key: str) -> Probe:
    """The blob store's local copies of `key` and their sizes (an S3 store downloads one for `local_file`)."""
    if not isinstance(blobs, ScratchWrites):
        return lambda: ()
    fresh = blobs.scratch_path(key)  # <the key's stem>.<random>: this key's copies are its siblings by stem
    stem = fresh.name.rpartition(".")[0]

    def reading() -> tuple[tuple[str, int], ...]:
        return tuple(sorted((path.name, _size(path)) for path in fresh.parent.glob(f"{stem}.*")))

    return reading


def read_positions(path: Path) -> Probe:
    """The offsets of this process's open descriptors on `path` (Linux's /proc; elsewhere none are seen and the
    step has its deadline alone)."""
    target = str(path.resolve())
    names = (target, f"{target} (deleted)")

    def reading() -> tuple[int, ...]:
        try:
            fds = os.listdir(_FDS)
        except OSError:
            return ()
        found = []
        for fd in fds:
            try:
                if os.readlink(_FDS / fd) not in names:
                    continue
                with open(_FDINFO / fd) as info:
                    found.append(int(info.readline().split()[1]))  # "pos:\t<offset>"
            except (OSError, ValueError, IndexError):
                continue  # closed meanwhile, or not a file
        return tuple(sorted(found))

    return reading


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1
