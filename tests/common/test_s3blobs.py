"""The blob store in an S3 bucket (moto in server mode, IAM authentication on), and serving blobs through the
gateway from it and from the local directory alike (Range, HEAD, conditional requests)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from gateway.downloads import BLOBS, serve_blob
from gateway.errors import error_middleware
from services.common.blobstore import BlobStore, LocalBlobStore, open_local
from services.common.config import BaseServiceSettings
from services.common.errors import DomainError, R, Unavailable
from services.common.netguard import TRUSTED
from services.common.s3blobs import S3BlobStore
from services.common.s3store import MiB, S3Store
from tests.fakes.s3 import FakeS3, S3Keys
from tests.fakes.s3 import fake_s3_fixture as fake_s3  # noqa: F401

_PREFIX = "platform/"
_WRONG_SECRET = "wR0ng/Secret+KeyThatMotoMustRefuse0000000"


def _s3_blobs(fake: FakeS3, bucket: str, scratch: Path, keys: S3Keys | None = None) -> S3BlobStore:
    # The smallest parts S3 allows (5 MiB), so a 12 MiB blob goes up, and is copied, in three parts.
    store = S3Store(
        fake.config(bucket, keys),
        policy=TRUSTED,
        multipart_threshold=5 * MiB,
        part_size=5 * MiB,
        copy_threshold=5 * MiB,
        copy_part_size=5 * MiB,
    )
    return S3BlobStore(store, scratch=scratch, prefix=_PREFIX)


@pytest.fixture
def bucket(fake_s3: FakeS3) -> str:  # noqa: F811
    return fake_s3.create_bucket()


@pytest.fixture
def blobs(fake_s3: FakeS3, bucket: str, tmp_path: Path) -> S3BlobStore:  # noqa: F811
    return _s3_blobs(fake_s3, bucket, tmp_path / "scratch")


def _write(blobs: BlobStore, key: str, data: bytes) -> None:
    with blobs.writer(key) as scratch:
        scratch.write_bytes(data)


def _objects(fake: FakeS3, bucket: str) -> dict[str, bytes]:
    listed = fake.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: fake.client().get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_a_committed_blob_is_an_object_under_the_prefix(
    fake_s3: FakeS3,  # noqa: F811
    bucket: str,
    blobs: S3BlobStore,
) -> None:
    before = time.time()
    _write(blobs, "outputs/job-1/output.mp4", b"frames")

    assert _objects(fake_s3, bucket) == {"platform/outputs/job-1/output.mp4": b"frames"}
    info = blobs.stat("outputs/job-1/output.mp4")
    assert info is not None
    assert (info.key, info.size, info.etag) == ("outputs/job-1/output.mp4", 6, hashlib.md5(b"frames").hexdigest())
    assert before - 1 <= info.mtime <= time.time() + 1
    head = fake_s3.client().head_object(Bucket=bucket, Key="platform/outputs/job-1/output.mp4")
    assert head["ContentType"] == "video/mp4"
    assert list(blobs.scratch.iterdir()) == []  # the scratch file went up and away


def test_a_failed_write_leaves_neither_object_nor_scratch(
    fake_s3: FakeS3,  # noqa: F811
    bucket: str,
    blobs: S3BlobStore,
) -> None:
    with pytest.raises(RuntimeError), blobs.writer("outputs/job-1/output.mp4") as scratch:
        scratch.write_bytes(b"half")
        raise RuntimeError("encoder died")
    assert _objects(fake_s3, bucket) == {}
    assert list(blobs.scratch.iterdir()) == []


def test_missing_blobs(blobs: S3BlobStore) -> None:
    assert blobs.stat("nothing/here") is None
    with pytest.raises(FileNotFoundError), blobs.local_file("nothing/here"):
        pass
    with pytest.raises(FileNotFoundError):
        next(blobs.read_chunks("nothing/here"))
    with pytest.raises(FileNotFoundError):
        blobs.move("nothing/here", "elsewhere")
    with pytest.raises(ValueError):
        blobs.stat("../escape")
    assert list(blobs.scratch.iterdir()) == []


def test_a_local_copy_lasts_as_long_as_the_context(blobs: S3BlobStore) -> None:
    _write(blobs, "uploads/job-1/source", b"source bytes")
    with blobs.local_file("uploads/job-1/source") as path:
        assert path.read_bytes() == b"source bytes"
        assert path.parent == blobs.scratch
    assert not path.exists()
    assert list(blobs.scratch.iterdir()) == []


async def test_open_local_downloads_off_the_event_loop(blobs: S3BlobStore) -> None:
    _write(blobs, "uploads/job-1/source", b"source bytes")
    async with open_local(blobs, "uploads/job-1/source") as path:
        assert path.read_bytes() == b"source bytes"
    assert not path.exists()


def test_read_chunks_reads_the_range_asked_for(blobs: S3BlobStore) -> None:
    data = os.urandom(2 * MiB + 100)
    _write(blobs, "files/sha256/x", data)
    assert b"".join(blobs.read_chunks("files/sha256/x")) == data
    assert b"".join(blobs.read_chunks("files/sha256/x", MiB - 10, 20)) == data[MiB - 10 : MiB + 10]
    assert b"".join(blobs.read_chunks("files/sha256/x", 2 * MiB)) == data[2 * MiB :]
    assert [len(c) for c in blobs.read_chunks("files/sha256/x")] == [MiB, MiB, 100]


def test_move_copies_on_the_server_and_drops_the_source(
    fake_s3: FakeS3,  # noqa: F811
    bucket: str,
    blobs: S3BlobStore,
) -> None:
    _write(blobs, "files/incoming/abc", b"content")
    blobs.move("files/incoming/abc", "files/sha256/def")
    assert _objects(fake_s3, bucket) == {"platform/files/sha256/def": b"content"}


def test_a_multipart_blob_is_committed_moved_and_read_whole(
    fake_s3: FakeS3,  # noqa: F811
    bucket: str,
    blobs: S3BlobStore,
) -> None:
    data = os.urandom(12 * MiB + 1)
    _write(blobs, "files/incoming/big", data)
    staged = blobs.stat("files/incoming/big")
    assert staged is not None and staged.etag is not None and staged.etag.endswith("-3")  # 5 + 5 + 2 MiB parts

    blobs.move("files/incoming/big", "files/sha256/big")  # a multipart copy: 5 MiB ranges copied on the server
    assert blobs.stat("files/incoming/big") is None
    moved = blobs.stat("files/sha256/big")
    assert moved is not None and moved.size == len(data) and moved.etag is not None and moved.etag.endswith("-3")
    with blobs.local_file("files/sha256/big") as path:
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert "Uploads" not in fake_s3.client().list_multipart_uploads(Bucket=bucket)


def test_listing_and_deleting_folders(
    fake_s3: FakeS3,  # noqa: F811
    bucket: str,
    blobs: S3BlobStore,
) -> None:
    for key in ("files/thumbs/abc/small.jpg", "files/thumbs/abc/large.jpg", "files/thumbs/abcd/small.jpg"):
        _write(blobs, key, b"jpeg")
    fake_s3.client().put_object(Bucket=bucket, Key="files/thumbs/abc/outside-the-prefix.jpg", Body=b"x")

    listed = list(blobs.listing("files/thumbs/abc"))
    assert [info.key for info in listed] == ["files/thumbs/abc/large.jpg", "files/thumbs/abc/small.jpg"]
    assert all(info.size == 4 and info.mtime > time.time() - 60 for info in listed)

    blobs.delete("files/thumbs/abc")  # the folder: everything under it, and nothing beside it
    assert [info.key for info in blobs.listing("files/thumbs")] == ["files/thumbs/abcd/small.jpg"]
    assert "files/thumbs/abc/outside-the-prefix.jpg" in _objects(fake_s3, bucket)
    blobs.delete("files/thumbs/abc")  # nothing there: fine


def test_delete_many_counts_what_was_there(blobs: S3BlobStore) -> None:
    _write(blobs, "outputs/job-1/output.mp4", b"video")
    _write(blobs, "outputs/job-1/poster-small.jpg", b"jpeg")
    keys = ["outputs/job-1/output.mp4", "outputs/job-1/poster-small.jpg", "outputs/job-1/never-made.jpg"]
    assert blobs.delete_many(keys) == 2
    assert [blobs.stat(key) for key in keys] == [None, None, None]
    assert blobs.delete_many(keys) == 0


def test_discard_partials_removes_an_interrupted_writers_scratch(blobs: S3BlobStore) -> None:
    mine, other = blobs.scratch_path("outputs/a"), blobs.scratch_path("outputs/b")
    mine.write_bytes(b"half")
    other.write_bytes(b"half")
    blobs.discard_partials("outputs/a")
    assert not mine.exists() and other.exists()


def test_a_failing_bucket_is_unavailable_and_the_secret_is_never_told(
    fake_s3: FakeS3,  # noqa: F811
    bucket: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys = S3Keys(fake_s3.admin.access_key_id, _WRONG_SECRET)
    blobs = _s3_blobs(fake_s3, bucket, tmp_path / "scratch", keys)
    caplog.set_level(logging.WARNING)
    calls: list[Any] = [
        lambda: blobs.stat("outputs/x"),
        lambda: _write(blobs, "outputs/x", b"x"),
        lambda: list(blobs.listing("files/incoming")),
        lambda: blobs.delete("outputs/x"),
    ]
    for call in calls:
        with pytest.raises(Unavailable) as refused:
            call()
        assert refused.value.reason == R.UNAVAILABLE
        assert bucket not in refused.value.message  # operator detail: logged, not told to whoever asked
    assert "refused the credentials" in caplog.text
    assert _WRONG_SECRET not in caplog.text and _WRONG_SECRET not in repr(blobs)


def _settings(fake: FakeS3, tmp_path: Path, **extra: Any) -> BaseServiceSettings:
    return BaseServiceSettings(
        data_dir=tmp_path / "data",
        blob_s3_endpoint=fake.endpoint,
        blob_s3_force_path_style=True,
        blob_s3_prefix="/vidkiln/",
        **extra,
    )


def test_the_settings_pick_the_store(
    fake_s3: FakeS3,  # noqa: F811
    bucket: str,
    tmp_path: Path,
) -> None:
    assert isinstance(BaseServiceSettings(data_dir=tmp_path / "data").blob_store(), LocalBlobStore)
    secret = fake_s3.admin.secret_access_key
    settings = _settings(
        fake_s3,
        tmp_path,
        blob_s3_bucket=bucket,
        blob_s3_access_key_id=fake_s3.admin.access_key_id,
        blob_s3_secret_access_key=secret,
    )
    assert settings.url_allow == ""  # the platform's own endpoint on 127.0.0.1 needs no allow-listing
    blobs = settings.blob_store()
    assert isinstance(blobs, S3BlobStore) and blobs.scratch == tmp_path / "data" / "blobs" / ".partial"
    _write(blobs, "outputs/job-1/output.mp4", b"frames")
    assert list(_objects(fake_s3, bucket)) == ["vidkiln/outputs/job-1/output.mp4"]
    assert secret not in repr(settings) and secret not in str(settings.model_dump())


def test_a_missing_bucket_fails_at_start(fake_s3: FakeS3, tmp_path: Path) -> None:  # noqa: F811
    settings = _settings(
        fake_s3,
        tmp_path,
        blob_s3_bucket="vk-test-no-such-bucket",
        blob_s3_access_key_id=fake_s3.admin.access_key_id,
        blob_s3_secret_access_key=fake_s3.admin.secret_access_key,
    )
    with pytest.raises(DomainError, match="does not exist"):
        settings.blob_store()


def test_without_keys_the_default_credential_chain_signs(
    fake_s3: FakeS3,  # noqa: F811
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The reverse of a customer's store (tests/common/test_s3store.py): the platform's own bucket may be reached
    # with the environment's credentials (or a profile, or an instance role).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", fake_s3.admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", fake_s3.admin.secret_access_key)
    blobs = _settings(fake_s3, tmp_path, blob_s3_bucket=bucket).blob_store()
    _write(blobs, "outputs/x", b"x")
    assert blobs.stat("outputs/x") is not None


# Serving, through a small aiohttp app using the gateway's serve_blob: the S3 store's streamed answers match
# the local store's FileResponse ones.


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    fake: FakeS3 = request.getfixturevalue("fake_s3")
    return _s3_blobs(fake, fake.create_bucket(), tmp_path / "scratch")


@pytest.fixture
async def served(store: BlobStore) -> AsyncIterator[str]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await serve_blob(request, request.match_info["key"], name="clip.mp4")

    app = web.Application(middlewares=[error_middleware])
    app[BLOBS] = store
    app.router.add_get("/cdn/{key:.+}", handler)  # and HEAD
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/cdn/")).rstrip("/")
    await server.close()


_DATA = os.urandom(3 * MiB + 5)


async def _get(url: str, method: str = "GET", **headers: str) -> tuple[int, CIMultiDict[str], bytes]:
    async with aiohttp.ClientSession() as http, http.request(method, url, headers=headers) as resp:
        return resp.status, CIMultiDict(resp.headers), await resp.read()


async def test_a_blob_is_served_whole_with_its_validators(store: BlobStore, served: str) -> None:
    await asyncio.to_thread(_write, store, "outputs/job-1/output.mp4", _DATA)
    status, headers, body = await _get(f"{served}/outputs/job-1/output.mp4")
    assert status == 200 and body == _DATA
    assert headers["Content-Length"] == str(len(_DATA)) and headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Type"] == "video/mp4"
    assert headers["Content-Disposition"].startswith('attachment; filename="clip.mp4"')
    assert headers["ETag"].startswith('"') and headers["Last-Modified"].endswith("GMT")

    status, head, body = await _get(f"{served}/outputs/job-1/output.mp4", "HEAD")
    assert (status, body, head["Content-Length"], head["ETag"]) == (200, b"", str(len(_DATA)), headers["ETag"])

    status, _, body = await _get(f"{served}/outputs/job-1/output.mp4", **{"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    since = headers["Last-Modified"]
    status, _, body = await _get(f"{served}/outputs/job-1/output.mp4", **{"If-Modified-Since": since})
    assert (status, body) == (304, b"")
    status, _, _ = await _get(f"{served}/outputs/job-1/output.mp4", **{"If-Match": '"something-else"'})
    assert status == 412


async def test_ranges(store: BlobStore, served: str) -> None:
    await asyncio.to_thread(_write, store, "outputs/job-1/output.mp4", _DATA)
    url, size = f"{served}/outputs/job-1/output.mp4", len(_DATA)
    cases = [
        ("bytes=0-9", 0, 10),
        (f"bytes={MiB - 3}-{MiB + 2}", MiB - 3, 6),  # across a chunk boundary
        ("bytes=-5", size - 5, 5),
        (f"bytes={size - 3}-", size - 3, 3),
        (f"bytes=10-{size + 100}", 10, size - 10),
    ]
    for wanted, start, count in cases:
        status, headers, body = await _get(url, Range=wanted)
        assert status == 206, wanted
        assert headers["Content-Range"] == f"bytes {start}-{start + count - 1}/{size}", wanted
        assert body == _DATA[start : start + count], wanted
    for wanted in (f"bytes={size}-", "bytes=abc", "bytes=9-3"):
        status, headers, body = await _get(url, Range=wanted)
        assert status == 416 and headers["Content-Range"] == f"bytes */{size}", wanted
    # If-Range with a date before the last change: the range is ignored, the whole blob sent.
    status, _, body = await _get(url, Range="bytes=0-9", **{"If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert (status, len(body)) == (200, size)


async def test_a_missing_blob_is_not_found_and_an_empty_one_is_served(store: BlobStore, served: str) -> None:
    status, _, body = await _get(f"{served}/outputs/none.mp4")
    assert status == 404 and b"not_found" in body
    await asyncio.to_thread(_write, store, "outputs/empty.bin", b"")
    status, headers, body = await _get(f"{served}/outputs/empty.bin")
    assert (status, headers["Content-Length"], body) == (200, "0", b"")


async def test_a_client_leaving_mid_download_does_not_hold_up_the_server(store: BlobStore, served: str) -> None:
    data = os.urandom(12 * MiB)
    await asyncio.to_thread(_write, store, "outputs/big.mp4", data)
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.get(f"{served}/outputs/big.mp4") as resp:
                assert len(await resp.content.readexactly(MiB)) == MiB
                resp.close()  # gone, with 11 MiB unread
        async with http.get(f"{served}/outputs/big.mp4", headers={"Range": "bytes=-4"}) as resp:
            assert await resp.read() == data[-4:]
