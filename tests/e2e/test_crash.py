"""At-least-once, proven with SIGKILL: no job is lost or finished twice when a process dies."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from opentelemetry.sdk.trace import TracerProvider
from sqlmodel import col, select

from services.common.config import BaseServiceSettings
from services.common.db import open_database
from services.encoder.__main__ import run as run_encoder
from services.encoder.config import Settings as EncoderSettings
from services.jobs.models import JobsTable, LedgerEntry
from tests.conftest import start_platform
from tests.e2e.helpers import follow, submit
from tests.harness import NatsServer, Platform, ServiceProcess, settings_kwargs

LONG_ENCODE = {"resolution": "720p", "preset": "slow"}


async def wait_for_progress(http: aiohttp.ClientSession, platform: Platform, job_id: str) -> dict[str, Any]:
    """Polls until the job runs and has reported progress (an encode is in the middle)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        async with http.get(
            f"{platform.base_url}/ondemand/status/{job_id}", headers={"X-API-Key": platform.admin_key}
        ) as resp:
            status: dict[str, Any] = await resp.json()
        if status["status"] == "running" and (status["progress"] or 0) > 0:
            return status
        assert status["status"] in ("queued", "running"), status
        await asyncio.sleep(0.05)
    raise TimeoutError("the encode never reported progress")


async def wait_answering(http: aiohttp.ClientSession, url: str, key: str) -> None:
    """The gateway answers 503 while its channel to a restarted service reconnects, then 200."""
    deadline = time.monotonic() + 15
    while True:
        async with http.get(url, headers={"X-API-Key": key}) as resp:
            if resp.status == 200:
                return
            assert resp.status == 503 and resp.headers["Retry-After"] == "1"
        assert time.monotonic() < deadline, "the gateway did not reconnect"
        await asyncio.sleep(0.1)


def descendants(pid: int) -> list[int]:
    """Every process below pid (children, their children, ...)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def outputs_of(platform: Platform, job_id: str) -> list[Path]:
    return sorted((platform.data_dir / "blobs" / "outputs" / job_id).glob("*"))


def partials(platform: Platform) -> list[Path]:
    """Scratch files of unfinished blob writes (a killed writer leaves one behind)."""
    return sorted((platform.data_dir / "blobs" / ".partial").iterdir())


async def ledger_of(platform: Platform, job_id: str) -> list[tuple[str, int]]:
    """The job's credit ledger entries, (kind, amount) in order."""
    settings = BaseServiceSettings(**settings_kwargs(platform.data_dir, platform.nats.url, platform.database_url))
    async with open_database(settings.database_url_for("jobs"), JobsTable.metadata) as sessions:
        async with sessions.begin() as session:
            rows = await session.exec(
                select(LedgerEntry).where(LedgerEntry.job_id == uuid.UUID(job_id)).order_by(col(LedgerEntry.id))
            )
            return [(entry.kind, entry.amount) for entry in rows.all()]


async def balance(http: aiohttp.ClientSession, platform: Platform) -> dict[str, Any]:
    async with http.get(f"{platform.base_url}/tokens/balance", headers={"X-API-Key": platform.admin_key}) as resp:
        assert resp.status == 200
        answer: dict[str, Any] = await resp.json()
        return answer


@pytest.fixture
async def platform_without_encoder(
    tmp_path: Path, nats: NatsServer, database_url: str | None, tracer_provider: TracerProvider
) -> AsyncIterator[Platform]:
    started = await start_platform(tmp_path, nats, database_url, tracer_provider, encoder=False)
    async with started.stack:
        yield started


async def test_sigkilled_encoder_is_replaced_and_the_job_finishes_once(
    platform_without_encoder: Platform, source_server: str, long_clip: Path
) -> None:
    platform = platform_without_encoder
    first = await platform.add_process("encoder", VIDKILN_TASK_ACK_WAIT="3")
    async with aiohttp.ClientSession() as http:
        before = await balance(http, platform)
        created = await submit(
            http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/long/long.mp4", **LONG_ENCODE}
        )
        job_id = created["jobId"]
        await wait_for_progress(http, platform, job_id)
        assert first.process is not None
        helpers = descendants(first.process.pid)  # its fork server and the encode it runs
        assert len(helpers) >= 2
        first.kill()
        deadline = time.monotonic() + 10
        while alive := [pid for pid in helpers if Path(f"/proc/{pid}").exists()]:
            assert time.monotonic() < deadline, f"orphaned encoder processes keep running: {alive}"
            await asyncio.sleep(0.1)
        assert outputs_of(platform, job_id) == []  # killed mid-encode: nothing published yet
        assert len(partials(platform)) == 1  # ... but its half-written output is still on disk

        second = ServiceProcess("encoder", first.env, platform.data_dir / "encoder-2.log")
        await second.start()
        platform.stack.push_async_callback(second.stop)
        final, seen = await follow(http, platform.base_url, platform.admin_key, job_id, timeout=120, every=0.2)
        after = await balance(http, platform)

    assert final["status"] == "success", final
    charged = final["billingSummary"]["chargedNeu"]
    assert charged > 0
    assert await ledger_of(platform, job_id) == [
        ("reserve", final["billingSummary"]["estimatedNeu"]),
        ("deduct", charged),
    ]
    assert after["available"] == before["available"] - charged and after["reserved"] == before["reserved"]
    assert [s for s, _ in seen].count("success") == len([s for s, _ in seen if s == "success"])
    outputs = outputs_of(platform, job_id)
    assert [p.name for p in outputs] == ["output.mp4", "poster-large.jpg", "poster-medium.jpg", "poster-small.jpg"]
    assert partials(platform) == []  # the second worker cleared the first one's leftovers
    with av.open(str(long_clip)) as src, av.open(str(outputs[0])) as out:
        assert src.duration is not None and out.duration is not None
        assert abs(out.duration - src.duration) / av.time_base <= 0.1


async def test_jobs_killed_while_events_flow_loses_no_state(
    tmp_path: Path,
    nats: NatsServer,
    database_url: str | None,
    tracer_provider: TracerProvider,
    source_server: str,
) -> None:
    platform = await start_platform(tmp_path, nats, database_url, tracer_provider, jobs_process=True)
    jobs = platform.services["jobs"]
    assert isinstance(jobs, ServiceProcess)
    async with platform.stack:
        async with aiohttp.ClientSession() as http:
            created = await submit(
                http,
                platform.base_url,
                platform.admin_key,
                {"sourceUrl": f"{source_server}/long/long.mp4", **LONG_ENCODE},
            )
            job_id = created["jobId"]
            await wait_for_progress(http, platform, job_id)
            jobs.kill()
            # Polls are answered from the gateway's read model; what needs jobs says it is unavailable.
            async with http.get(
                f"{platform.base_url}/ondemand/status/{job_id}", headers={"X-API-Key": platform.admin_key}
            ) as resp:
                assert resp.status == 200 and (await resp.json())["status"] == "running"
            async with http.get(f"{platform.base_url}/api/v1/jobs", headers={"X-API-Key": platform.admin_key}) as resp:
                assert resp.status == 503
                assert (await resp.json())["error"]["code"] == "SERVICE_UNAVAILABLE"
            await asyncio.sleep(2.0)  # progress (and maybe the outcome) pile up in EVENTS meanwhile
            await jobs.start()
            await wait_answering(http, f"{platform.base_url}/api/v1/jobs", platform.admin_key)
            final, _ = await follow(http, platform.base_url, platform.admin_key, job_id, timeout=120, every=0.2)

        assert final["status"] == "success", final
        assert final["progress"] == 100
        assert final["outputProbe"]["width"] == 1280
        assert final["startedAt"] is not None and final["finishedAt"] is not None
        assert [p.name for p in outputs_of(platform, job_id)][0] == "output.mp4"


async def test_nats_server_restarted_mid_encode_every_service_reconnects_and_the_job_finishes(
    platform: Platform, source_server: str
) -> None:
    async with aiohttp.ClientSession() as http:
        created = await submit(
            http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/long/long.mp4", **LONG_ENCODE}
        )
        job_id = created["jobId"]
        await wait_for_progress(http, platform, job_id)
        platform.nats.stop()  # JetStream keeps its streams on disk: the same store comes back
        await asyncio.sleep(1.0)
        platform.nats.start()
        final, _ = await follow(http, platform.base_url, platform.admin_key, job_id, timeout=120, every=0.2)
        assert final["status"] == "success", final
        # Every service is back on the new connection: a new job travels the whole way.
        again = await submit(
            http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/hd.mp4"}
        )
        second, _ = await follow(http, platform.base_url, platform.admin_key, again["jobId"], timeout=60, every=0.1)
    assert second["status"] == "success", second
    billing = final["billingSummary"]
    assert await ledger_of(platform, job_id) == [
        ("reserve", billing["estimatedNeu"]),
        ("deduct", billing["chargedNeu"]),
    ]


@pytest.fixture
async def unavailable_source() -> AsyncIterator[tuple[str, list[str]]]:
    """A source whose server answers HEAD but every GET with 503: a task that can never succeed."""
    gets: list[str] = []

    async def head(_request: web.Request) -> web.Response:
        return web.Response(headers={"Content-Type": "video/mp4", "Content-Length": "1000000"})

    async def get(request: web.Request) -> web.Response:
        gets.append(request.path)
        return web.Response(status=503, text="overloaded")

    app = web.Application()
    app.router.add_head("/clip.mp4", head)
    app.router.add_get("/clip.mp4", get, allow_head=False)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/clip.mp4")), gets
    await server.close()


async def test_a_poison_task_fails_after_bounded_retries_with_a_clear_message(
    platform_without_encoder: Platform, unavailable_source: tuple[str, list[str]]
) -> None:
    platform = platform_without_encoder
    await platform.add("encoder", run_encoder, EncoderSettings, task_max_deliver=3)
    url, gets = unavailable_source
    async with aiohttp.ClientSession() as http:
        before = await balance(http, platform)
        created = await submit(http, platform.base_url, platform.admin_key, {"sourceUrl": url})
        final, _ = await follow(http, platform.base_url, platform.admin_key, created["jobId"], timeout=60, every=0.2)
        after = await balance(http, platform)
    assert final["status"] == "failed", final
    assert final["failureCode"] == "source_unreachable"
    assert final["failureMessage"] == "The source server answered HTTP 503. Gave up after 3 attempts."
    assert len(gets) == 1 + 3  # the probe at submit, one download per attempt, then no more
    reserved = final["billingSummary"]["estimatedNeu"]
    assert await ledger_of(platform, created["jobId"]) == [("reserve", reserved), ("release", reserved)]
    assert after == before  # nothing charged, nothing left held
