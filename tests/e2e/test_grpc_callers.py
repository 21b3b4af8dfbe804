"""Internal teams call the services over gRPC with their own credentials: same scopes, same isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import aiohttp
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from opentelemetry.sdk.trace import TracerProvider

from protos.auth.v1 import auth_pb2, auth_pb2_grpc
from protos.common.v1 import storage_pb2
from protos.encoder.v1 import encoder_pb2
from protos.ingest.v1 import files_pb2, ingest_pb2, ingest_pb2_grpc
from protos.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from protos.webhooks.v1 import webhooks_pb2
from services.auth import server as auth_server
from services.common.identity import bearer_metadata
from services.encoder import server as encoder_server
from services.ingest import server as ingest_server
from services.ingest.files import server as files_server
from services.jobs import server as jobs_server
from services.webhooks import server as webhooks_server
from tests.conftest import start_platform
from tests.harness import NatsServer, Platform


@pytest.fixture
async def platform(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    started = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with started.stack:
        yield started


def reason_of(error: grpc.aio.AioRpcError) -> tuple[str, dict[str, str]]:
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    return info.reason, dict(info.metadata)


SERVERS = [
    (auth_server, auth_pb2),
    (jobs_server, jobs_pb2),
    (ingest_server, ingest_pb2),
    (files_server, files_pb2),
    (encoder_server, encoder_pb2),
    (webhooks_server, webhooks_pb2),
]


@pytest.mark.parametrize(("module", "contract"), SERVERS, ids=lambda m: getattr(m, "__name__", ""))
def test_every_method_of_every_service_has_an_access_policy(module: ModuleType, contract: ModuleType) -> None:
    descriptor = contract.DESCRIPTOR.services_by_name[module.SERVICE_NAME.rsplit(".", 1)[1]]
    assert {f"/{descriptor.full_name}/{m.name}" for m in descriptor.methods} == set(module.POLICIES)


async def test_scoped_keys_over_grpc(platform: Platform, source_server: str) -> None:
    full = bearer_metadata(await platform.new_key(email="team@example.com"))
    read_only = bearer_metadata(await platform.new_key(email="team@example.com", scopes=("jobs:read",)))
    stranger = bearer_metadata(await platform.new_key(email="stranger@example.com"))
    create = jobs_pb2.CreateJobRequest(
        options=jobs_pb2.EncodeOptions(resolution="480p"),
        source=storage_pb2.Source(url=f"{source_server}/media/silent.mp4"),
    )
    async with grpc.aio.insecure_channel(platform.services["jobs"].addr) as channel:
        jobs = jobs_pb2_grpc.JobServiceStub(channel)
        job = await jobs.CreateJob(create, metadata=full, timeout=10)
        assert job.status == jobs_pb2.JOB_STATUS_QUEUED

        fetched = await jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job.id), metadata=read_only, timeout=10)
        assert fetched.id == job.id  # same account, a read scope: allowed

        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await jobs.CreateJob(create, metadata=read_only, timeout=10)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert reason_of(denied.value) == ("SCOPE_MISSING", {"requiredScope": "jobs:create"})

        with pytest.raises(grpc.aio.AioRpcError) as hidden:
            await jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job.id), metadata=stranger, timeout=10)
        assert hidden.value.code() == grpc.StatusCode.NOT_FOUND and reason_of(hidden.value)[0] == "JOB_NOT_FOUND"

        for metadata, reason in (((), "CREDENTIALS_MISSING"), (bearer_metadata("cvr_nope"), "API_KEY_INVALID")):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=metadata, timeout=10)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED and reason_of(refused.value)[0] == reason

    async with grpc.aio.insecure_channel(platform.services["ingest"].addr) as channel:
        ingest = ingest_pb2_grpc.IngestServiceStub(channel)
        request = ingest_pb2.ValidateSourceRequest(source=storage_pb2.Source(url=f"{source_server}/media/silent.mp4"))
        assert (await ingest.ValidateSource(request, metadata=full, timeout=10)).filename == "silent.mp4"
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await ingest.ValidateSource(request, metadata=read_only, timeout=10)
        assert reason_of(denied.value) == ("SCOPE_MISSING", {"requiredScope": "jobs:create"})


async def test_a_login_session_over_grpc_and_keys_that_cannot_manage_keys(platform: Platform) -> None:
    await platform.password_account(email="lead@example.com", password="a long enough password")
    async with grpc.aio.insecure_channel(platform.services["auth"].addr) as channel:
        auth = auth_pb2_grpc.AuthServiceStub(channel)
        pair = await auth.Login(
            auth_pb2.LoginRequest(email="lead@example.com", password="a long enough password"), timeout=10
        )
        session = bearer_metadata(pair.access_token)
        key = await auth.CreateApiKey(auth_pb2.CreateApiKeyRequest(name="svc"), metadata=session, timeout=10)
        assert key.key.startswith("cvr_")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await auth.ListApiKeys(auth_pb2.ListApiKeysRequest(), metadata=bearer_metadata(key.key), timeout=10)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED and reason_of(refused.value)[0] == "FORBIDDEN"
        account = await auth.GetAccount(auth_pb2.GetAccountRequest(), metadata=bearer_metadata(key.key), timeout=10)
        assert account.email == "lead@example.com"
    async with grpc.aio.insecure_channel(platform.services["jobs"].addr) as channel:
        jobs = jobs_pb2_grpc.JobServiceStub(channel)
        listing = await jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=session, timeout=10)
        assert listing.total == 0
    async with aiohttp.ClientSession() as http:  # the same access token works at the REST edge
        async with http.get(
            f"{platform.base_url}/api/v1/jobs", headers={"Authorization": f"Bearer {pair.access_token}"}
        ) as r:
            assert r.status == 200
