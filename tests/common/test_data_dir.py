"""The data directory is its owner's alone: created 0700, tightened at start, and everything in it 0600/0700."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.auth.domain import Deps, create_account
from services.auth.models import AuthTable
from services.common.blobstore import LocalBlobStore
from services.common.config import BaseServiceSettings, secure_data_dir, write_private
from services.common.db import open_database
from services.common.identity import TokenSigner
from services.common.lifecycle import UMASK, prepare_process, run_until_signal
from tests.security import loose_modes


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A typical login umask while the test runs (whatever the test runner's), restored after: the umask is the
    process's, and prepare_process changes it."""
    for name in list(os.environ):
        if name.startswith("VIDKILN_"):
            monkeypatch.delenv(name)
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_a_missing_data_dir_and_its_missing_parents_are_created_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "srv" / "vidkiln"
    assert secure_data_dir(data_dir) == data_dir.resolve()
    assert (mode_of(tmp_path / "srv"), mode_of(data_dir)) == (0o700, 0o700)


def test_an_open_data_dir_is_tightened_with_its_direct_entries_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    deep = data_dir / "blobs" / "outputs" / "job"
    deep.mkdir(parents=True)
    (deep / "output.mp4").write_bytes(b"x")
    (data_dir / "runtime.json").write_text("{}")
    (data_dir / "tool").write_text("#!/bin/sh\n")
    (data_dir / "tool").chmod(0o755)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (data_dir / "link").symlink_to(elsewhere)
    for path in (data_dir, data_dir / "blobs", deep):
        path.chmod(0o755)

    with caplog.at_level(logging.WARNING):
        secure_data_dir(data_dir)

    assert mode_of(data_dir) == mode_of(data_dir / "blobs") == 0o700
    assert mode_of(data_dir / "runtime.json") == 0o600
    assert mode_of(data_dir / "tool") == 0o700  # the owner keeps what it had
    # Not walked: once the data directory is 0700 nobody else reaches these anyway.
    assert (mode_of(deep), mode_of(deep / "output.mp4")) == (0o755, 0o644)
    assert mode_of(elsewhere) == 0o755  # a symlink is not followed
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert str(data_dir) in record.getMessage() and "blobs" in record.getMessage()


def test_a_private_data_dir_is_left_alone_silently(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "db").mkdir(mode=0o700)
    with caplog.at_level(logging.DEBUG):
        secure_data_dir(data_dir)
    assert caplog.records == []


def test_what_may_not_be_tightened_is_an_error_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "shared").mkdir(parents=True)
    data_dir.chmod(0o755)
    real_chmod = Path.chmod

    def chmod(self: Path, mode: int, **kwargs: bool) -> None:
        if self.name == "shared":  # another user's: chmod is refused
            raise PermissionError(1, "Operation not permitted")
        real_chmod(self, mode, **kwargs)

    monkeypatch.setattr(Path, "chmod", chmod)
    with caplog.at_level(logging.WARNING):
        secure_data_dir(data_dir)
    assert mode_of(data_dir) == 0o700
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "shared" in errors[0] and str(data_dir) in errors[0]


def test_write_private_replaces_an_open_file_with_an_owner_only_one(tmp_path: Path) -> None:
    path = tmp_path / "runtime.json"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "new")
    assert path.read_text() == "new" and mode_of(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["runtime.json"]  # no scratch file left


def test_database_url_for_creates_the_data_dir_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    BaseServiceSettings(data_dir=data_dir).database_url_for("auth")
    assert mode_of(data_dir) == mode_of(data_dir / "db") == 0o700


async def test_every_piece_writes_owner_only_files_after_prepare_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    assert prepare_process(data_dir) == data_dir.resolve()
    assert os.umask(UMASK) == UMASK
    assert mode_of(data_dir) == 0o700

    settings = BaseServiceSettings(data_dir=data_dir)
    settings.platform_key()
    blobs = LocalBlobStore(settings.blob_dir)
    with blobs.writer("outputs/job/output.mp4") as scratch:
        scratch.write_bytes(b"video")
    async with open_database(settings.database_url_for("auth"), AuthTable.metadata) as sessions:
        await create_account(
            Deps(sessions=sessions, signer=TokenSigner(settings.platform_key())), email="a@example.com"
        )
        assert {p.name for p in (data_dir / "db").iterdir()} >= {"auth.sqlite3-wal", "auth.sqlite3-shm"}
        assert loose_modes(data_dir) == []  # the SQLite files while open, the key, the blob and its folders
    assert loose_modes(data_dir) == []


def test_run_until_signal_prepares_the_process_before_main_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("VIDKILN_DATA_DIR", str(data_dir))
    seen: list[int] = []

    async def main(_stop: asyncio.Event) -> None:
        seen.append(os.umask(UMASK))
        seen.append(mode_of(data_dir))

    run_until_signal(main)
    assert seen == [UMASK, 0o700]
