"""Content-addressed storage on a real database and blob store: seals, references, deletes."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from gateway.files import SEAL_PURPOSE, Staged, seal
from services.common.blobstore import LocalBlobStore
from services.common.db import open_database
from services.common.errors import InvalidArgument, NotFound, PermissionDenied
from services.common.identity import Principal
from services.common.signing import UrlSigner
from services.ingest.files import storage, store
from services.ingest.files.deps import FileDeps
from services.ingest.models import FileContent, IngestTable, StoredFile

KEY = b"unit-test-platform-key"
ALICE = Principal(account_id=uuid.uuid4(), scopes=frozenset({"jobs:create"}))
BOB = Principal(account_id=uuid.uuid4(), scopes=frozenset({"jobs:create"}))


@pytest.fixture
async def deps(tmp_path: Path, database_url: str | None) -> AsyncIterator[FileDeps]:
    """On SQLite, and on PostgreSQL when one is configured."""
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'ingest.sqlite3'}"
    async with open_database(url, IngestTable.metadata) as sessions:
        made = FileDeps(sessions=sessions, blobs=LocalBlobStore(tmp_path / "blobs"), sealer=storage.seal_signer(KEY))
        yield made
        made.media_threads.shutdown()


def local(deps: FileDeps) -> LocalBlobStore:
    """The test's blob store, a local directory whose files a test may look at."""
    assert isinstance(deps.blobs, LocalBlobStore)
    return deps.blobs


def staged(deps: FileDeps, data: bytes) -> storage.Staged:
    """Bytes staged the way the gateway stages an upload."""
    key = f"{storage.STAGING_PREFIX}{uuid.uuid4().hex}"
    with deps.blobs.writer(key) as scratch:
        scratch.write_bytes(data)
    return storage.Staged(key, len(data), hashlib.sha256(data).hexdigest())


def new(upload: storage.Staged, name: str = "f.bin") -> store.NewFile:
    return store.NewFile(staged=upload, filename=name, content_type="", file_type="")


def test_the_gateways_seal_is_what_ingest_checks() -> None:
    assert SEAL_PURPOSE == storage.SEAL_PURPOSE
    upload = Staged(f"{storage.STAGING_PREFIX}{'a' * 32}", 10, "b" * 64)
    sig, expires = seal(UrlSigner(KEY, purpose=SEAL_PURPOSE, prefix=""), upload)
    now = datetime.now(UTC)
    checker = storage.seal_signer(KEY)
    assert storage.check_staged(
        checker, key=upload.key, size=10, sha256=upload.sha256, seal=sig, expires=expires, now=now
    )
    forged: list[dict[str, Any]] = [
        {"size": 11},  # another size
        {"sha256": "c" * 64},  # content the caller claims without having it
        {"key": f"{storage.STAGING_PREFIX}{'d' * 32}"},
        {"seal": sig[:-2] + "AA"},
    ]
    for change in forged:
        claim: dict[str, Any] = {"key": upload.key, "size": 10, "sha256": upload.sha256, "seal": sig}
        with pytest.raises(PermissionDenied):
            storage.check_staged(checker, now=now, expires=expires, **(claim | change))
    with pytest.raises(PermissionDenied, match="expired"):
        storage.check_staged(
            checker,
            key=upload.key,
            size=10,
            sha256=upload.sha256,
            seal=sig,
            expires=expires,
            now=now + timedelta(hours=1),
        )
    for key in ("files/sha256/" + "b" * 64, "uploads/job/source", f"{storage.STAGING_PREFIX}../x"):
        with pytest.raises(InvalidArgument):  # only staged uploads move: never another key of the store
            storage.check_staged(checker, key=key, size=10, sha256=upload.sha256, seal=sig, expires=expires, now=now)


async def test_content_is_stored_once_and_goes_with_its_last_reference(deps: FileDeps) -> None:
    data = b"the same bytes" * 1000
    [first, second] = await store.register(deps, ALICE, [new(staged(deps, data)), new(staged(deps, data))])
    [theirs] = await store.register(deps, BOB, [new(staged(deps, data))])
    assert (first.deduplicated, second.deduplicated, theirs.deduplicated) == (False, True, False)
    content = local(deps).path_of(storage.content_key(first.sha256))
    assert content.read_bytes() == data
    assert not (local(deps).root / "files" / "incoming").exists() or not any(
        (local(deps).root / "files/incoming").iterdir()
    )
    for principal, record, left in ((ALICE, first, 2), (BOB, theirs, 1)):
        _, gone = await store.delete(deps, principal, str(record.id))
        assert not gone and content.is_file() and await references(deps, first.sha256) == left
    with pytest.raises(NotFound):
        await store.delete(deps, BOB, str(second.id))  # not Bob's
    _, gone = await store.delete(deps, ALICE, str(second.id))
    assert gone and not content.exists() and await references(deps, first.sha256) is None


async def test_content_lost_from_the_store_is_restored_by_the_next_upload_of_it(deps: FileDeps) -> None:
    data = b"deleted behind our back"
    [first] = await store.register(deps, ALICE, [new(staged(deps, data))])
    deps.blobs.delete(storage.content_key(first.sha256))  # e.g. by a job deleting its source
    [again] = await store.register(deps, BOB, [new(staged(deps, data))])
    assert local(deps).path_of(storage.content_key(again.sha256)).read_bytes() == data
    assert await references(deps, first.sha256) == 2


async def test_a_missing_staged_upload_is_refused(deps: FileDeps) -> None:
    upload = staged(deps, b"here for a moment")
    deps.blobs.delete(upload.key)
    with pytest.raises(InvalidArgument, match="not in the blob store"):
        await store.register(deps, ALICE, [new(upload)])


async def test_uploads_and_deletes_of_the_same_content_interleave_safely(deps: FileDeps) -> None:
    """A new upload never lands on content a concurrent delete of the last reference is removing."""
    data = b"contended" * 512
    [held] = await store.register(deps, ALICE, [new(staged(deps, data))])
    for _ in range(15):
        _, (held,), _ = await asyncio.gather(
            store.delete(deps, ALICE, str(held.id)),
            store.register(deps, ALICE, [new(staged(deps, data))]),
            store.register(deps, BOB, [new(staged(deps, data))]),  # two first uploads at once, after a delete
        )
        assert local(deps).path_of(storage.content_key(held.sha256)).read_bytes() == data
        assert await references(deps, held.sha256) == 2
        removed, _ = await store.cleanup(deps, BOB, created_before=None, file_type="other", dry_run=False, limit=10)
        assert len(removed) == 1 and await references(deps, held.sha256) == 1
    assert not any(local(deps).root.joinpath("files", "trash").glob("*"))


async def references(deps: FileDeps, sha256: str) -> int | None:
    async with deps.sessions() as session:
        content = (await session.exec(select(FileContent).where(FileContent.sha256 == sha256))).first()
        records = (await session.exec(select(StoredFile).where(StoredFile.sha256 == sha256))).all()
    if content is None:
        assert records == []
        return None
    assert content.references == len(records)
    return content.references


def test_sweep_removes_only_old_leftovers(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    for key in (f"{storage.STAGING_PREFIX}{'a' * 32}", f"files/trash/{'b' * 64}.000000", storage.content_key("c" * 64)):
        with blobs.writer(key) as scratch:
            scratch.write_bytes(b"x")
    now = datetime.now(UTC)
    assert storage.sweep(blobs, older_than=timedelta(hours=1), now=now) == 0  # still fresh: maybe in use
    assert storage.sweep(blobs, older_than=timedelta(hours=1), now=now + timedelta(hours=2)) == 2
    assert [p.name for p in (tmp_path / "blobs" / "files").rglob("*") if p.is_file()] == ["c" * 64]
