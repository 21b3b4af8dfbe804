"""Every blob key a gRPC caller passes is resolved against its own account: another account's output is not found."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import grpc
import pytest

from protos.common.v1 import storage_pb2
from protos.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from services.common import blobkeys
from services.common.identity import bearer_metadata
from tests.e2e.helpers import follow, submit
from tests.harness import Platform


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_another_accounts_output_cannot_be_a_source_over_grpc(
    platform: Platform, http: aiohttp.ClientSession, source_server: str
) -> None:
    created = await submit(
        http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/silent.mp4"}
    )
    done, _ = await follow(http, platform.base_url, platform.admin_key, created["jobId"])
    assert done["status"] == "success", done
    # The key is visible in any /cdn link of the output.
    output_key = blobkeys.output(created["jobId"], "mp4")
    assert f"/cdn/{output_key}?" in done["downloadUrl"]

    intruder = bearer_metadata(await platform.new_key(email="b@example.com", scopes=("jobs:create", "jobs:read")))
    async with grpc.aio.insecure_channel(platform.services["jobs"].addr) as channel:
        jobs = jobs_pb2_grpc.JobServiceStub(channel)
        admin = await jobs.GetJob(
            jobs_pb2.GetJobRequest(job_id=created["jobId"]), metadata=bearer_metadata(platform.admin_key), timeout=10
        )
        foreign = [
            output_key,
            blobkeys.upload_source(admin.account_id, created["jobId"]),
            f"uploads/{created['jobId']}/source",  # the layout of older releases
            f"{output_key}/../output.mp4",
        ]
        for key in foreign:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await jobs.CreateJob(
                    jobs_pb2.CreateJobRequest(
                        options=jobs_pb2.EncodeOptions(resolution="480p"), source=storage_pb2.Source(blob_key=key)
                    ),
                    metadata=intruder,
                    timeout=10,
                )
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND, (key, refused.value.details())

        # The classic flow: attach the same key as the upload of a job of one's own, then confirm.
        own = await jobs.CreateJob(
            jobs_pb2.CreateJobRequest(
                options=jobs_pb2.EncodeOptions(resolution="480p"), mode=jobs_pb2.JOB_MODE_CLASSIC
            ),
            metadata=intruder,
            timeout=10,
        )
        for key in foreign:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await jobs.AttachUpload(
                    jobs_pb2.AttachUploadRequest(job_id=own.id, blob_key=key, size_bytes=1),
                    metadata=intruder,
                    timeout=10,
                )
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND, key
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await jobs.ConfirmJob(jobs_pb2.ConfirmJobRequest(job_id=own.id), metadata=intruder, timeout=10)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # it has no source at all
        after = await jobs.GetJob(jobs_pb2.GetJobRequest(job_id=own.id), metadata=intruder, timeout=10)
        assert after.status == jobs_pb2.JOB_STATUS_CREATED and not after.source.blob_key
