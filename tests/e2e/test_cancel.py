"""Cancel through both dialects: a running encode stops, a queued task is skipped, outputs are clean."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from opentelemetry.sdk.trace import TracerProvider

from services.encoder.__main__ import run as run_encoder
from services.encoder.config import Settings as EncoderSettings
from tests.conftest import start_platform
from tests.e2e.helpers import follow, submit
from tests.harness import NatsServer, Platform

SLOW = {"resolution": "720p", "preset": "slow"}


@pytest.fixture
async def idle(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    """The platform without an encoder (tests add one when they want work to start)."""
    started = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with started.stack:
        yield started


async def status(http: aiohttp.ClientSession, platform: Platform, job_id: str) -> dict[str, Any]:
    async with http.get(
        f"{platform.base_url}/ondemand/status/{job_id}", headers={"X-API-Key": platform.admin_key}
    ) as r:
        body: dict[str, Any] = await r.json()
        return body


def leftovers(platform: Platform) -> list[Path]:
    return sorted((platform.data_dir / "blobs" / ".partial").glob("*"))


async def test_cancel_stops_a_running_encode_and_the_worker_moves_on(idle: Platform, source_server: str) -> None:
    platform = idle
    await platform.add("encoder", run_encoder, EncoderSettings)
    key = {"X-API-Key": platform.admin_key}
    async with aiohttp.ClientSession() as http:
        job = (
            await submit(
                http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/long/long.mp4", **SLOW}
            )
        )["jobId"]
        while (await status(http, platform, job))["progress"] in (None, 0):
            await asyncio.sleep(0.05)
        assert leftovers(platform)  # a half-written output exists
        async with http.delete(f"{platform.base_url}/ondemand/{job}", headers=key) as resp:
            assert resp.status == 200
            # The whole reservation comes back: a 6 s source is estimated at 1 NEU.
            assert await resp.json() == {"ok": True, "released": 1, "status": "canceled"}
        deadline = time.monotonic() + 10
        while leftovers(platform):
            assert time.monotonic() < deadline, "the partial output was not removed"
            await asyncio.sleep(0.05)
        final = await status(http, platform, job)
        assert (final["status"], final["downloadUrl"]) == ("canceled", None)

        # The worker is free again: the next job runs to the end.
        nxt = (
            await submit(
                http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/silent.mp4"}
            )
        )["jobId"]
        done, _ = await follow(http, platform.base_url, platform.admin_key, nxt)
        assert done["status"] == "success"
        assert (await status(http, platform, job))["status"] == "canceled"
    assert not (platform.data_dir / "blobs" / "outputs" / job).exists()


async def test_a_canceled_queued_job_is_skipped_when_a_worker_arrives(idle: Platform, source_server: str) -> None:
    platform = idle
    async with aiohttp.ClientSession() as http:
        job = (
            await submit(
                http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/silent.mp4"}
            )
        )["jobId"]
        async with http.post(
            f"{platform.base_url}/api/v1/jobs/{job}/cancel", headers={"Authorization": f"Bearer {platform.admin_key}"}
        ) as resp:
            body = await resp.json()
            assert resp.status == 200 and body["success"] is True and body["data"]["status"] == "cancelled"
        await platform.add("encoder", run_encoder, EncoderSettings)
        nxt = (
            await submit(
                http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/silent.mp4"}
            )
        )["jobId"]
        await follow(http, platform.base_url, platform.admin_key, nxt)  # the worker got past the canceled task
        assert (await status(http, platform, job))["status"] == "canceled"
    assert not (platform.data_dir / "blobs" / "outputs" / job).exists()


async def test_finished_jobs_answer_with_a_note_and_serve_their_thumbnails(
    platform: Platform, source_server: str, tmp_path: Path
) -> None:
    bearer = {"Authorization": f"Bearer {platform.admin_key}"}
    async with aiohttp.ClientSession() as http:
        created = await submit(
            http,
            platform.base_url,
            platform.admin_key,
            {"sourceUrl": f"{source_server}/media/hd.mp4", "resolution": "720p"},
        )
        job = created["jobId"]
        final, _ = await follow(http, platform.base_url, platform.admin_key, job)
        assert final["status"] == "success"
        async with http.delete(
            f"{platform.base_url}/ondemand/{job}", headers={"X-API-Key": platform.admin_key}
        ) as resp:
            body = await resp.json()
            assert body["ok"] is True and body["status"] == "success" and "already succeeded" in body["note"]

        async with http.get(f"{platform.base_url}/api/v1/jobs/{job}", headers=bearer) as resp:
            media = await resp.json()
        assert media["data"]["result"]["thumbnail_url"] == f"/api/v1/videos/{job}/thumbnail"
        for size, width in (("small", 160), ("medium", 320), ("large", 640), (None, 320)):
            query = f"?size={size}" if size else ""
            async with http.get(f"{platform.base_url}/api/v1/videos/{job}/thumbnail{query}", headers=bearer) as resp:
                assert resp.status == 200 and resp.headers["Content-Type"] == "image/jpeg"
                (tmp_path / "t.jpg").write_bytes(await resp.read())
            with av.open(str(tmp_path / "t.jpg")) as image:
                assert next(image.decode(video=0)).width == width
        async with http.get(f"{platform.base_url}/api/v1/videos/{job}/thumbnail?size=huge", headers=bearer) as resp:
            assert resp.status == 400 and (await resp.json())["error"]["code"] == "VALIDATION_ERROR"
        other = await platform.new_key(email="other@example.com")
        async with http.get(
            f"{platform.base_url}/api/v1/videos/{job}/thumbnail", headers={"Authorization": f"Bearer {other}"}
        ) as resp:
            assert resp.status == 404
        assert final["effectiveExecution"]["passes"] == 1
        assert final["requestedExecution"]["frameRatePolicy"] == "force" and final["requestedExecution"]["fps"] == 30
