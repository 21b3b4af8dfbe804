"""Create -> wait -> download through the SDK on a live platform with an encoder: both dialects, a download
interrupted after a few chunks and resumed to identical bytes, the sync client and the async one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.harness import Platform
from vidkiln.client import AsyncClient, Client
from vidkiln.client.models import MediaJob, OnDemandStatus

CHUNK = 4096


class Interrupted(Exception):
    """Raised from a progress callback: the connection goes with it, the partial file stays."""


def _stop_after(limit: int) -> tuple[list[int], Callable[[int, int | None], None]]:
    seen: list[int] = []

    def progress(done: int, _total: int | None) -> None:
        seen.append(done)
        if done >= limit:
            raise Interrupted

    return seen, progress


def _sync_flow(platform: Platform, source: str, tmp: Path) -> None:
    with Client(platform.base_url, api_key=platform.admin_key) as client:
        job = client.encode.on_demand_encode(source_url=source, resolution="480p", external_id="sdk-flow")
        assert job.status == "queued" and job.pricing is not None and job.status_url.endswith(job.job_id)
        heard: list[OnDemandStatus] = []
        done = client.encode.wait(job.job_id, interval=0.1, timeout=90, on_progress=heard.append)
        assert done.status == "success" and done.download_url and heard[-1].status == "success"
        assert len({(s.status, s.progress) for s in heard}) == len(heard)  # told of changes only
        assert done.output_probe is not None and done.output_probe.height == 360  # never upscaled
        whole = httpx.get(done.download_url).content

        dest = tmp / "encode.mp4"
        _, stop = _stop_after(2 * CHUNK)
        with pytest.raises(Interrupted):
            client.encode.download(done, dest, chunk_size=CHUNK, on_progress=stop)
        part = dest.with_name("encode.mp4.part")
        assert not dest.exists() and part.stat().st_size == 2 * CHUNK < len(whole)
        result = client.encode.download(done, dest, chunk_size=CHUNK)
        assert (result.resumed_from, result.size) == (2 * CHUNK, len(whole)) and result.etag
        assert dest.read_bytes() == whole and not part.exists()

        # A partial file whose validator is not the file's now: If-Range makes the gateway send it whole.
        stale = tmp / "stale.mp4"
        with pytest.raises(Interrupted):
            client.encode.download(done, stale, chunk_size=CHUNK, on_progress=_stop_after(CHUNK)[1])
        stale.with_name("stale.mp4.part.json").write_text(json.dumps({"validator": '"another-version"'}))
        again = client.encode.download(done, stale, chunk_size=CHUNK)
        assert (again.resumed_from, stale.read_bytes()) == (0, whole)

        # The same job through the Media API.
        media = client.media.jobs.wait(job.job_id, interval=0.1, timeout=10)
        assert media.status == "completed" and media.result is not None and media.result.file_size == len(whole)
        video = tmp / "media.mp4"
        with pytest.raises(Interrupted):
            client.media.videos.download(job.job_id, video, chunk_size=CHUNK, on_progress=_stop_after(CHUNK)[1])
        assert client.media.videos.download(job.job_id, video, chunk_size=CHUNK).resumed_from == CHUNK
        assert video.read_bytes() == whole
        assert client.media.videos.thumbnail(job.job_id, "small")[:2] == b"\xff\xd8"  # a JPEG
        assert client.media.jobs.logs(job.job_id).total_logs > 0


async def test_encode_wait_and_a_resumed_download_in_both_dialects(
    encoding: Platform, source_server: str, tmp_path: Path
) -> None:
    await asyncio.to_thread(_sync_flow, encoding, f"{source_server}/media/silent.mp4", tmp_path)


async def test_the_async_client_encodes_an_uploaded_file_and_resumes_its_download(
    encoding: Platform, clips: dict[str, Path], tmp_path: Path
) -> None:
    async with AsyncClient(encoding.base_url, api_key=encoding.admin_key) as client:
        uploaded = await client.media.files.upload(clips["silent"], description="sdk")
        assert (uploaded.file_type, uploaded.size) == ("video", clips["silent"].stat().st_size)
        job = await client.encode.on_demand_encode(source_file_id=uploaded.id, resolution="480p")
        heard: list[MediaJob] = []
        done = await client.media.jobs.wait(job.job_id, interval=0.1, timeout=90, on_progress=heard.append)
        assert done.status == "completed" and heard[-1].status == "completed"
        status = await client.encode.on_demand_status(job.job_id)
        assert status.download_url is not None
        whole = tmp_path / "whole.mp4"
        await client.download(status.download_url, whole)

        dest = tmp_path / "video.mp4"
        with pytest.raises(Interrupted):
            await client.media.videos.download(job.job_id, dest, chunk_size=CHUNK, on_progress=_stop_after(CHUNK)[1])
        result = await client.media.videos.download(job.job_id, dest, chunk_size=CHUNK)
        assert result.resumed_from == CHUNK and dest.read_bytes() == whole.read_bytes()

        original = tmp_path / "original.mp4"
        await client.media.files.download(uploaded.id, original)
        assert original.read_bytes() == clips["silent"].read_bytes()
