"""The whole platform with its blob store in an S3 bucket (moto, server mode): uploads, stored files, encode
outputs and thumbnails all land in the bucket, the gateway streams them back (Range, HEAD, ETag), deletes
reach the bucket, and nothing is left in the data directory's blobs/ folder.

One database is enough here (SQLite): the blob store does not depend on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from opentelemetry.sdk.trace import TracerProvider

from services.common import blobkeys
from tests.conftest import start_platform
from tests.e2e.helpers import follow, submit, top_level_atoms
from tests.e2e.test_classic import Api
from tests.fakes.s3 import FakeS3
from tests.fakes.s3 import fake_s3_fixture as fake_s3  # noqa: F401
from tests.files.helpers import auth, call, upload
from tests.harness import NatsServer, Platform

PREFIX = "vidkiln/"


@pytest.fixture
def bucket(fake_s3: FakeS3) -> str:  # noqa: F811
    return fake_s3.create_bucket()


@pytest.fixture(name="platform")
async def s3_platform(
    tmp_path: Path,
    nats: NatsServer,
    tracer_provider: TracerProvider,
    fake_s3: FakeS3,  # noqa: F811
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Platform]:
    """Every process's blob store is the bucket (as the VIDKILN_BLOB_S3_* variables set it in production)."""
    settings = {
        "BUCKET": bucket,
        "PREFIX": PREFIX,
        "ENDPOINT": fake_s3.endpoint,
        "ACCESS_KEY_ID": fake_s3.admin.access_key_id,
        "SECRET_ACCESS_KEY": fake_s3.admin.secret_access_key,
        "FORCE_PATH_STYLE": "true",
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"VIDKILN_BLOB_S3_{name}", value)
    started = await start_platform(tmp_path, nats, None, tracer_provider)
    async with started.stack:
        yield started


def objects(fake: FakeS3, bucket: str) -> dict[str, int]:
    """Key (without the prefix) -> size of every object in the bucket; all of them must be under the prefix."""
    listed = fake.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    assert all(o["Key"].startswith(PREFIX) for o in listed), listed
    return {o["Key"].removeprefix(PREFIX): int(o["Size"]) for o in listed}


async def download(http: aiohttp.ClientSession, url: str, **headers: str) -> tuple[int, Any, bytes]:
    async with http.get(url, headers=headers) as resp:
        return resp.status, resp.headers.copy(), await resp.read()


async def test_uploads_files_and_outputs_live_in_the_bucket(
    platform: Platform,
    fake_s3: FakeS3,  # noqa: F811
    bucket: str,
    clips: dict[str, Path],
    tmp_path: Path,
) -> None:
    base, key = platform.base_url, platform.admin_key
    content = clips["silent"].read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    async with aiohttp.ClientSession() as http:
        # A Media API upload: staged in the bucket, moved to its content address, probed and thumbnailed from it.
        up = await upload(http, base, key, "clip.mp4", content)
        assert objects(fake_s3, bucket) == {f"files/sha256/{sha256}": len(content)}
        status, got_headers, got = await download(http, f"{base}/api/v1/files/{up['id']}/download", **auth(key))
        assert (status, got, got_headers["Content-Type"]) == (200, content, "video/mp4")
        status, _, part = await download(
            http, f"{base}/api/v1/files/{up['id']}/stream", Range="bytes=100-199", **auth(key)
        )
        assert (status, part) == (206, content[100:200])
        status, meta = await call(http, "GET", f"{base}/api/v1/files/{up['id']}/metadata", key)
        assert status == 200 and (meta["data"]["metadata"]["width"], meta["data"]["metadata"]["height"]) == (640, 360)
        status, _, jpeg = await download(http, f"{base}/api/v1/files/{up['id']}/thumbnail?size=small", **auth(key))
        assert status == 200 and jpeg.startswith(b"\xff\xd8")
        assert f"files/thumbs/{sha256}/small.jpg" in objects(fake_s3, bucket)

        # The file as an on-demand encode's source: the encoder reads it from the bucket and stores its output there.
        created = await submit(http, base, key, {"sourceFileId": up["id"], "resolution": "480p"})
        finished, _ = await follow(http, base, key, created["jobId"])
        assert finished["status"] == "success", finished
        stored = objects(fake_s3, bucket)
        output_key = f"outputs/{created['jobId']}/output.mp4"
        assert stored[output_key] > 0 and f"outputs/{created['jobId']}/poster-small.jpg" in stored

        # The signed /cdn/ link streams it through the gateway: HEAD, Range, ETag, the whole MP4.
        url = finished["downloadUrl"]
        async with http.head(url) as resp:
            assert resp.status == 200 and int(resp.headers["Content-Length"]) == stored[output_key]
            assert resp.headers["Content-Type"] == "video/mp4" and resp.headers["Accept-Ranges"] == "bytes"
            etag = resp.headers["ETag"]
        status, headers, first = await download(http, url, Range="bytes=0-99")
        assert status == 206 and len(first) == 100
        assert headers["Content-Range"] == f"bytes 0-99/{stored[output_key]}"
        status, _, nothing = await download(http, url, **{"If-None-Match": etag})
        assert (status, nothing) == (304, b"")
        status, _, _ = await download(http, url, Range=f"bytes={stored[output_key]}-")
        assert status == 416
        status, _, whole = await download(http, url)
        assert status == 200 and whole[:100] == first
        output = tmp_path / "out.mp4"
        output.write_bytes(whole)
        assert top_level_atoms(output)[:1] == ["ftyp"]
        with av.open(str(output)) as container:
            assert container.streams.video[0].height == 360  # 480p of a 360p source: never upscaled

        # The classic flow's chunked upload: parts in the bucket, joined into the job's source, then encoded.
        api = Api(http, base, key)
        job_id = (await api.call("POST", "/jobs", json={"codec": "h264", "resolution": "480p", "fps": 30}))["jobId"]
        account = (await api.call("GET", "/api/v1/auth/me"))["id"]
        parts_prefix = blobkeys.upload_parts(account, job_id) + "/"
        await api.call("POST", f"/jobs/{job_id}/stream/init")
        third = len(content) // 3
        pieces = {1: content[:third], 2: content[third : 2 * third], 3: content[2 * third :]}
        parts = []
        for index in (2, 3, 1):
            answer = await api.call("PUT", f"/jobs/{job_id}/stream/chunk/{index}", data=pieces[index])
            parts.append({"PartNumber": index, "ETag": answer["ETag"]})
        assert {k for k in objects(fake_s3, bucket) if k.startswith(parts_prefix)} == {
            blobkeys.upload_part(account, job_id, n) for n in (1, 2, 3)
        }
        final = await api.call("POST", f"/jobs/{job_id}/stream/finalize", json={"parts": parts})
        assert final["size"] == len(content)
        stored = objects(fake_s3, bucket)
        assert stored[blobkeys.upload_source(account, job_id)] == len(content)
        assert not any(k.startswith(parts_prefix) for k in stored)
        await api.call("POST", f"/jobs/{job_id}/confirm")
        done = await api.wait(job_id)
        assert done["status"] == "success", done
        assert done["sourceProbe"]["width"] == 640

        # Deletes reach the bucket: the classic job's files, then the stored file (content and thumbnails).
        deleted = await api.call("DELETE", f"/jobs/{job_id}")
        assert deleted["objectsDeleted"] >= 3
        gone = (f"uploads/{account}/{job_id}/", f"outputs/{job_id}/")
        assert not any(k.startswith(gone) for k in objects(fake_s3, bucket))
        status, _ = await call(http, "DELETE", f"{base}/api/v1/files/{up['id']}", key)
        assert status == 200
        assert not any(k.startswith("files/") for k in objects(fake_s3, bucket))
        status, _, _ = await download(http, f"{base}/api/v1/files/{up['id']}/download", **auth(key))
        assert status == 404

    # Only the on-demand job's output remains, and nothing at all was written to the local blob directory.
    assert {k.split("/")[1] for k in objects(fake_s3, bucket)} == {created["jobId"]}
    blob_dir = platform.data_dir / "blobs"
    assert [p for p in blob_dir.rglob("*") if not p.is_dir()] == []
