"""The local blob store: keys stay inside the root, and a blob appears whole or not at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.common.blobstore import LocalBlobStore, check_key
from tests.harness import ROOT

_KEY = "outputs/job-1/output.mp4"


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def _partials(store: LocalBlobStore) -> list[str]:
    return sorted(p.name for p in (store.root / ".partial").iterdir())


def test_a_written_blob_appears_only_when_the_writer_finishes(store: LocalBlobStore) -> None:
    with store.writer(_KEY) as scratch:
        scratch.write_bytes(b"frames")
        assert not store.path_of(_KEY).exists()
        assert store.stat(_KEY) is None

    assert store.path_of(_KEY).read_bytes() == b"frames"
    info = store.stat(_KEY)
    assert info is not None and (info.key, info.size) == (_KEY, 6)
    assert _partials(store) == []


def test_a_failed_write_leaves_neither_blob_nor_partial(store: LocalBlobStore) -> None:
    with pytest.raises(RuntimeError, match="encoder crashed"), store.writer(_KEY) as scratch:
        scratch.write_bytes(b"half a file")
        raise RuntimeError("encoder crashed")

    assert not store.path_of(_KEY).exists()
    assert _partials(store) == []


def test_a_failed_rewrite_keeps_the_previous_blob(store: LocalBlobStore) -> None:
    with store.writer(_KEY) as scratch:
        scratch.write_bytes(b"first")

    with pytest.raises(RuntimeError), store.writer(_KEY) as scratch:
        scratch.write_bytes(b"second, cut short")
        raise RuntimeError("disk full")

    assert store.path_of(_KEY).read_bytes() == b"first"


@pytest.mark.parametrize(
    "key",
    ["", "../x", "a/../b", "/abs", "a//b", ".hidden", "a/.hidden", "a/", "a\\b", "a b", "x" * 1025, "clip.mp4\n"],
    ids=[
        "empty",
        "parent",
        "inner-parent",
        "absolute",
        "double-slash",
        "hidden",
        "hidden-segment",
        "trailing-slash",
        "backslash",
        "space",
        "too-long",
        "trailing-newline",
    ],
)
def test_unsafe_keys_are_refused(store: LocalBlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        check_key(key)
    with pytest.raises(ValueError):
        store.path_of(key)


@pytest.mark.parametrize("key", ["a", "outputs/3f2a/output.mp4", "uploads/u-1/My_Clip-v2.final.mov"])
def test_ordinary_keys_are_accepted(store: LocalBlobStore, key: str) -> None:
    assert check_key(key) == key
    assert store.path_of(key).is_relative_to(store.root)


def test_a_valid_deep_key_can_be_written(store: LocalBlobStore) -> None:
    key = "/".join(["a" * 100, "b" * 100, "c" * 100])  # each segment well within NAME_MAX

    with store.writer(check_key(key)) as scratch:
        scratch.write_bytes(b"ok")

    assert store.path_of(key).read_bytes() == b"ok"


def test_discard_partials_removes_all_leftovers_of_that_key_only(store: LocalBlobStore) -> None:
    mine = [_abandoned(store, _KEY), _abandoned(store, _KEY)]
    others = [_abandoned(store, key) for key in (f"{_KEY}.bak", "outputs/job-1/output", "outputs/job-2/output.mp4")]
    assert all(p.exists() for p in mine + others)

    store.discard_partials(_KEY)

    assert not any(p.exists() for p in mine)
    assert [p.name for p in others if not p.exists()] == [], "another key's partial was removed"


def _abandoned(store: LocalBlobStore, key: str) -> Path:
    """The partial of a writer whose process died mid-write (its cleanup never ran)."""
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from services.common.blobstore import LocalBlobStore\n"
        "with LocalBlobStore(Path(sys.argv[1])).writer(sys.argv[2]) as scratch:\n"
        "    scratch.write_bytes(b'half')\n"
        "    sys.stdout.write(str(scratch))\n"
        "    sys.stdout.flush()\n"
        "    os._exit(1)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code, str(store.root), key], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert child.returncode == 1, child.stderr
    return Path(child.stdout)


def test_the_rest_of_the_blob_store_interface(store: LocalBlobStore) -> None:
    """What the S3 store does too (tests/common/test_s3blobs.py): local copies, ranges, moves, folders."""
    data = bytes(range(256)) * 8192  # 2 MiB
    with store.writer("files/incoming/a") as scratch:
        scratch.write_bytes(data)
    with store.local_file("files/incoming/a") as path:
        assert path == store.path_of("files/incoming/a")  # the file itself: no copy
    assert b"".join(store.read_chunks("files/incoming/a", 1000, (1 << 20) + 10)) == data[1000 : 1000 + (1 << 20) + 10]

    store.move("files/incoming/a", "files/sha256/a")
    assert store.stat("files/incoming/a") is None and store.path_of("files/sha256/a").read_bytes() == data
    with pytest.raises(FileNotFoundError):
        store.move("files/incoming/a", "files/sha256/b")
    with pytest.raises(FileNotFoundError), store.local_file("files/incoming/a"):
        pass

    assert store.stat("files") is None  # a folder of keys is not a blob
    assert [info.key for info in store.listing("files")] == ["files/sha256/a"]
    assert list(store.listing("nothing")) == []
    store.delete("files")
    assert list(store.listing("files")) == [] and _partials(store) == []
