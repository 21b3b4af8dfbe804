"""An uploaded file as the source of an encode job: its own account's only, and kept when the job goes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import grpc
import pytest

from protos.common.v1 import storage_pb2
from protos.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from services.common.identity import bearer_metadata
from tests.e2e.helpers import follow
from tests.files.helpers import auth, call, upload
from tests.harness import Platform


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def create_job(platform: Platform, key: str, blob_key: str) -> jobs_pb2.Job:
    """jobs.CreateJob over gRPC (as internal teams call it) with an uploaded file as the source."""
    request = jobs_pb2.CreateJobRequest(
        options=jobs_pb2.EncodeOptions(resolution="480p"), source=storage_pb2.Source(blob_key=blob_key)
    )
    async with grpc.aio.insecure_channel(platform.services["jobs"].addr) as channel:
        return await jobs_pb2_grpc.JobServiceStub(channel).CreateJob(request, metadata=bearer_metadata(key), timeout=10)


async def test_an_uploaded_file_is_the_source_of_an_encode_job(
    platform: Platform, http: aiohttp.ClientSession, clips: dict[str, Path]
) -> None:
    """Its blob_key is a Source.blob_key, for its own account only."""
    base, key = platform.base_url, platform.admin_key
    content = clips["silent"].read_bytes()
    up = await upload(http, base, key, "clip.mp4", content)
    job = await create_job(platform, key, up["blob_key"])
    assert job.source_probe.width == 640  # ingest read the upload when it validated the source
    finished, _ = await follow(http, base, key, job.id)
    assert finished["status"] == "success", finished
    assert finished["outputProbe"]["height"] == 360  # 480p of a 640x360 source: never upscaled
    async with http.get(f"{base}/api/v1/files/{up['id']}/download", headers=auth(key)) as resp:
        assert await resp.read() == content  # the upload is untouched

    # Knowing the key (the digest) is not having the file: another account gets what a missing upload gets.
    other = await platform.new_key(email="other@example.com")
    for blob_key in (up["blob_key"], f"files/sha256/{'0' * 64}", "files/thumbs/x"):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await create_job(platform, other, blob_key)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        assert "No such upload" in (refused.value.details() or "")

    # Through the REST API: `sourceFileId` on POST /ondemand/encode; another account's id is not found.
    body = {"sourceFileId": up["id"], "resolution": "480p"}
    async with http.post(f"{base}/ondemand/encode", json=body, headers={"X-API-Key": other}) as resp:
        assert resp.status == 404, await resp.text()
    async with http.post(f"{base}/ondemand/encode", json=body, headers={"X-API-Key": key}) as resp:
        created = await resp.json()
        assert resp.status == 200, created
    finished, _ = await follow(http, base, key, created["jobId"])
    assert finished["status"] == "success" and finished["sourceFilename"] == "clip.mp4", finished


async def test_deleting_a_job_keeps_the_uploaded_file_it_encoded(
    platform: Platform, http: aiohttp.ClientSession, clips: dict[str, Path]
) -> None:
    base, key = platform.base_url, platform.admin_key
    up = await upload(http, base, key, "clip.mp4", clips["silent"].read_bytes())
    job = await create_job(platform, key, up["blob_key"])
    assert (await follow(http, base, key, job.id))[0]["status"] == "success"
    assert (await call(http, "DELETE", f"{base}/api/v1/jobs/{job.id}", key))[0] == 200
    async with http.get(f"{base}/api/v1/files/{up['id']}/download", headers=auth(key)) as resp:
        assert resp.status == 200
