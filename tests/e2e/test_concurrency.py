"""Several tasks at once on one worker: short jobs pass a long one, a cancel reaches the right encode, and a
worker that shuts down hands every task it runs back to the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from opentelemetry.sdk.trace import TracerProvider

from services.encoder.__main__ import run as run_encoder
from services.encoder.config import Settings as EncoderSettings
from tests.conftest import start_platform
from tests.e2e.helpers import follow, submit
from tests.e2e.test_crash import wait_for_progress
from tests.harness import NatsServer, Platform, ServiceTask

LONGER = {"resolution": "1080p", "preset": "slow"}  # the 6 s clip, re-encoded at its full size, slowly


@pytest.fixture
async def idle(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    started = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with started.stack:
        yield started


async def job(http: aiohttp.ClientSession, platform: Platform, body: dict[str, Any]) -> str:
    job_id: str = (await submit(http, platform.base_url, platform.admin_key, body))["jobId"]
    return job_id


async def outcome(http: aiohttp.ClientSession, platform: Platform, job_id: str) -> dict[str, Any]:
    final, _ = await follow(http, platform.base_url, platform.admin_key, job_id, timeout=180, every=0.2)
    return final


def finished(status: dict[str, Any]) -> datetime:
    assert status["status"] == "success", status
    return datetime.fromisoformat(status["finishedAt"].replace("Z", "+00:00"))


async def test_short_jobs_submitted_after_a_long_one_finish_first(idle: Platform, source_server: str) -> None:
    await idle.add("encoder", run_encoder, EncoderSettings, encoder_concurrency=2)
    async with aiohttp.ClientSession() as http:
        long = await job(http, idle, {"sourceUrl": f"{source_server}/long/long.mp4", **LONGER})
        shorts = [await job(http, idle, {"sourceUrl": f"{source_server}/media/silent.mp4"}) for _ in range(5)]
        long_done = finished(await outcome(http, idle, long))
        short_done = [finished(await outcome(http, idle, short)) for short in shorts]
    assert max(short_done) < long_done


async def test_a_cancel_stops_only_its_own_encode(idle: Platform, source_server: str) -> None:
    await idle.add("encoder", run_encoder, EncoderSettings, encoder_concurrency=2)
    async with aiohttp.ClientSession() as http:
        doomed = await job(http, idle, {"sourceUrl": f"{source_server}/long/long.mp4", **LONGER})
        kept = await job(http, idle, {"sourceUrl": f"{source_server}/long/long.mp4", **LONGER})
        await wait_for_progress(http, idle, doomed)
        await wait_for_progress(http, idle, kept)  # both encode at once
        async with http.delete(f"{idle.base_url}/ondemand/{doomed}", headers={"X-API-Key": idle.admin_key}) as resp:
            assert resp.status == 200 and (await resp.json())["status"] == "canceled"
        done = await outcome(http, idle, kept)
        canceled = await outcome(http, idle, doomed)
    assert canceled["status"] == "canceled" and done["status"] == "success", (canceled, done)
    outputs = idle.data_dir / "blobs" / "outputs"
    assert not (outputs / doomed).exists() and (outputs / kept / "output.mp4").exists()


async def test_a_stopping_worker_hands_every_running_task_back(idle: Platform, source_server: str) -> None:
    first = await idle.add("encoder", run_encoder, EncoderSettings, encoder_concurrency=2)
    async with aiohttp.ClientSession() as http:
        jobs = [await job(http, idle, {"sourceUrl": f"{source_server}/long/long.mp4", **LONGER}) for _ in range(2)]
        for job_id in jobs:
            await wait_for_progress(http, idle, job_id)
        await first.stop()  # SIGTERM's path: both encodes are interrupted and their tasks nak'ed
        second = await ServiceTask.start(
            "encoder-2", run_encoder, EncoderSettings(**idle.kwargs(), encoder_concurrency=2), idle.provider
        )
        idle.stack.push_async_callback(second.stop)
        finals = [await outcome(http, idle, job_id) for job_id in jobs]
    assert [final["status"] for final in finals] == ["success", "success"], finals
