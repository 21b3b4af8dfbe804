"""The gateway's read model: polls cost no round trip, and still see every change."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.jobview import JobView
from protos.jobs.v1 import jobs_pb2
from tests.e2e.helpers import submit
from tests.harness import Platform


def _job(job_id: str, status: int, seconds: int, progress: float = 0.0) -> jobs_pb2.Job:
    job = jobs_pb2.Job(id=job_id, account_id="a", status=status, progress=progress)  # type: ignore[arg-type]
    job.updated_at.seconds = seconds
    return job


def test_newer_snapshots_win_and_entries_age() -> None:
    now = [100.0]
    view = JobView(live_ttl=5.0, done_ttl=60.0, capacity=2, clock=lambda: now[0])
    view.update(_job("j1", jobs_pb2.JOB_STATUS_RUNNING, 10))
    assert view.get("j1") is None  # a snapshot of a job nobody asked about is not kept

    view.remember(_job("j1", jobs_pb2.JOB_STATUS_RUNNING, 10, 20.0))
    view.update(_job("j1", jobs_pb2.JOB_STATUS_RUNNING, 12, 40.0))
    view.remember(_job("j1", jobs_pb2.JOB_STATUS_RUNNING, 11, 30.0))  # a slow read, older than we hold
    held = view.get("j1")
    assert held is not None and held.progress == 40.0

    now[0] += 5.0
    assert view.get("j1") is None  # a job at work without news is read again
    view.remember(_job("j1", jobs_pb2.JOB_STATUS_SUCCEEDED, 13))
    now[0] += 59.0
    assert view.get("j1") is not None  # a finished job lasts longer
    now[0] += 1.0
    assert view.get("j1") is None

    for n in range(3):
        view.remember(_job(f"k{n}", jobs_pb2.JOB_STATUS_QUEUED, 1))
    assert len(view) == 2 and view.get("k0") is None  # the least recently used went first


async def test_polls_are_answered_from_memory_and_follow_the_job(
    platform: Platform, source_server: str, spans: InMemorySpanExporter
) -> None:
    key = {"X-API-Key": platform.admin_key}
    async with aiohttp.ClientSession() as http:
        created = await submit(
            http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/hd.mp4"}
        )
        job_id = created["jobId"]
        seen: list[dict[str, Any]] = []
        polls = 0
        deadline = time.monotonic() + 60
        spans.clear()
        while not seen or seen[-1]["status"] != "success":
            async with http.get(f"{platform.base_url}/ondemand/status/{job_id}", headers=key) as resp:
                assert resp.status == 200
                seen.append(await resp.json())
            polls += 1
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        # Every state was seen, right after it happened; progress only grew.
        statuses = [s["status"] for s in seen]
        assert statuses[0] in ("queued", "running") and "running" in statuses
        progress = [s["progress"] for s in seen]
        assert progress == sorted(progress) and progress[-1] == 100
        assert seen[-1]["downloadUrl"] and seen[-1]["outputProbe"]["width"] == 1920
        reads = [s for s in spans.get_finished_spans() if s.name.endswith("JobService/GetJob")]
        assert polls > 20 and len(reads) <= 1, (polls, len(reads))  # at most one refresh in a ~2 s encode

        # Another account's poll of a job in the view is refused like a missing job.
        other = {"X-API-Key": await platform.new_key(email="other@example.com")}
        async with http.get(f"{platform.base_url}/ondemand/status/{job_id}", headers=other) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == "not_found"

        # A cancel through the gateway is seen by the very next poll (read-your-writes).
        long_id = (
            await submit(http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/long/long.mp4"})
        )["jobId"]
        async with http.delete(f"{platform.base_url}/ondemand/{long_id}", headers=key) as resp:
            assert resp.status == 200
        async with http.get(f"{platform.base_url}/ondemand/status/{long_id}", headers=key) as resp:
            assert (await resp.json())["status"] == "canceled"
