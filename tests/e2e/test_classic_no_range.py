"""The classic flow with a source server that ignores Range (`python -m http.server`).

Probing streams the body from its start, so probe-duration, approve-unified and confirm work as with
any server; a source that cannot be probed is refused with `probe_failed` and a line in its job's log;
a bulk confirm names every job it could not queue, over HTTP and over gRPC.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider

from protos.common.v1 import errors_pb2
from protos.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from services.common.identity import bearer_metadata
from tests.conftest import start_platform
from tests.e2e.no_range import populate, serving
from tests.e2e.test_classic import Api
from tests.harness import NatsServer, Platform

_JOB = {"codec": "h264", "resolution": "480p", "fps": 30}


@pytest.fixture(scope="module")
def no_range_files(tmp_path_factory: pytest.TempPathFactory, clips: dict[str, Path]) -> dict[str, Path]:
    return populate(tmp_path_factory.mktemp("no-range"), clips["hd"])


@pytest.fixture
def no_range(no_range_files: dict[str, Path]) -> Iterator[str]:
    """The base URL of a server without Range support."""
    with serving(next(iter(no_range_files.values())).parent) as base:
        yield base


@pytest.fixture
async def edge(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    """The platform without an encoder: jobs here are probed, priced and queued, not encoded."""
    started = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with started.stack:
        yield started


async def _create(api: Api, url: str) -> str:
    created = await api.call("POST", "/jobs", json={**_JOB, "sourceUrl": url})
    job_id: str = created["jobId"]
    return job_id


async def _logs(api: Api, job_id: str) -> list[dict[str, Any]]:
    body = await api.call("GET", f"/api/v1/jobs/{job_id}/logs")
    logs: list[dict[str, Any]] = body["data"]["logs"]
    return logs


async def test_probe_approve_confirm_and_encode_without_range(platform: Platform, no_range: str) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http, platform.base_url, platform.admin_key)
        job_id = await _create(api, f"{no_range}/moov-at-end.mp4")  # its index after its media: read to the end

        probe = await api.call("GET", f"/jobs/{job_id}/probe-duration")
        assert abs(probe["durationSec"] - 2.0) < 0.1, probe
        approved = await api.call("POST", f"/jobs/{job_id}/approve-unified")
        assert approved["ok"] is True and approved["estimate"]["reserved"] == 1
        assert abs(approved["estimate"]["durationSec"] - 2.0) < 0.1
        confirmed = await api.call("POST", f"/jobs/{job_id}/confirm")
        assert confirmed["status"] == "queued"

        done = await api.wait(job_id)
        assert done["status"] == "success", done
        assert done["sourceProbe"]["width"] == 1920 and done["billingSummary"]["chargedNeu"] == 1


@pytest.mark.parametrize(
    ("name", "width"), [("faststart.mp4", 1920), ("clip.mkv", 320), ("clip.webm", 320), ("clip.ts", 320)]
)
async def test_every_common_container_is_probed_without_range(
    edge: Platform, no_range: str, name: str, width: int
) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http, edge.base_url, edge.admin_key)
        job_id = await _create(api, f"{no_range}/{name}")

        probe = await api.call("GET", f"/jobs/{job_id}/probe-duration")

        assert abs(probe["durationSec"] - 2.0) < 0.1, probe
        status = await api.call("GET", f"/jobs/{job_id}/status")
        assert status["sourceProbe"]["width"] == width


async def test_a_source_that_cannot_be_probed_is_refused_and_its_log_says_why(edge: Platform, no_range: str) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http, edge.base_url, edge.admin_key)
        job_id = await _create(api, f"{no_range}/broken.mp4")  # text its server calls video/mp4

        for method, path in (("GET", "probe-duration"), ("POST", "approve-unified"), ("POST", "confirm")):
            refused = await api.call(method, f"/jobs/{job_id}/{path}", 422)
            assert refused["code"] == "probe_failed", refused
            assert "not a media file" in refused["message"] and "probed when encoding" not in refused["message"]

        status = await api.call("GET", f"/jobs/{job_id}/status")
        assert status["status"] == "created"  # nothing was reserved or queued ...
        assert (await api.call("GET", "/tokens/balance"))["reserved"] == 0
        logs = await _logs(api, job_id)  # ... and the job's log tells why, once per refusal
        refusals = [e for e in logs if (e["details"] or {}).get("step") == "probe"]
        assert len(refusals) == 3, logs
        assert all(e["level"] == "WARNING" and "not a media file" in e["message"] for e in refusals)
        assert refusals[0]["details"] == {"step": "probe", "reason": "PROBE_FAILED"}


async def test_bulk_confirm_reports_each_job_it_could_not_queue(edge: Platform, no_range: str) -> None:
    unknown = str(uuid.uuid4())
    async with aiohttp.ClientSession() as http:
        api = Api(http, edge.base_url, edge.admin_key)
        good = await _create(api, f"{no_range}/moov-at-end.mp4")
        broken = await _create(api, f"{no_range}/broken.mp4")
        canceled = await _create(api, f"{no_range}/clip.mkv")
        await api.call("POST", f"/jobs/{canceled}/cancel")

        answer = await api.call("POST", "/jobs/bulk/confirm", json={"jobIds": [good, broken, unknown, canceled]})

        assert answer["queued"] == 1 and [j["id"] for j in answer["jobs"]] == [good]
        assert answer["jobs"][0]["status"] == "queued"
        assert [(e["jobId"], e["code"]) for e in answer["errors"]] == [
            (broken, "probe_failed"),
            (unknown, "not_found"),
            (canceled, "job_active"),
        ]
        assert all(e["message"] for e in answer["errors"])
        assert "not a media file" in answer["errors"][0]["message"]
        assert any("not a media file" in e["message"] for e in await _logs(api, broken))
        assert (await api.call("GET", f"/jobs/{broken}/status"))["status"] == "created"

        clean = await api.call("POST", "/jobs/bulk/confirm", json={"jobIds": [good]})  # already queued: harmless
        assert clean == {**clean, "queued": 1, "errors": []}


async def test_confirm_jobs_over_grpc_names_the_failures(edge: Platform, no_range: str) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http, edge.base_url, edge.admin_key)
        good = await _create(api, f"{no_range}/faststart.mp4")
        broken = await _create(api, f"{no_range}/broken.mp4")
    async with grpc.aio.insecure_channel(edge.services["jobs"].addr) as channel:
        jobs = jobs_pb2_grpc.JobServiceStub(channel)
        answer = await jobs.ConfirmJobs(
            jobs_pb2.ConfirmJobsRequest(job_ids=[good, broken]), metadata=bearer_metadata(edge.admin_key), timeout=30
        )

    assert answer.queued == 1 and [j.id for j in answer.jobs] == [good]
    assert [(f.job_id, f.error_reason) for f in answer.failures] == [(broken, errors_pb2.PROBE_FAILED)]
    assert "not a media file" in answer.failures[0].error
