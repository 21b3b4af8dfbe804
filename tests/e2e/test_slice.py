"""One encode through the whole platform: REST -> jobs -> TASKS -> encoder -> EVENTS -> jobs -> download."""

from __future__ import annotations

import uuid
from pathlib import Path

import aiohttp
import av
from sqlmodel import select

from services.common.config import BaseServiceSettings
from services.common.db import open_database
from services.jobs.models import JobLog, JobsTable
from tests.e2e.helpers import follow, submit, top_level_atoms
from tests.harness import Platform
from tests.media import clip, damage


async def test_encode_travels_the_platform_and_downloads(
    platform: Platform, source_server: str, clips: dict[str, Path], tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as http:
        created = await submit(
            http,
            platform.base_url,
            platform.admin_key,
            {"sourceUrl": f"{source_server}/media/hd.mp4", "codec": "h264", "resolution": "720p"},
        )
        assert created["status"] == "queued"
        assert created["statusUrl"] == f"/ondemand/status/{created['jobId']}"
        assert created["sourceFilename"] == "hd.mp4"

        final, seen = await follow(http, platform.base_url, platform.admin_key, created["jobId"])
        statuses = [s for s, _ in seen]
        assert final["status"] == "success", final
        assert "running" in statuses
        assert statuses.index("running") < statuses.index("success")
        assert all(0 <= (p or 0) <= 100 for s, p in seen if s == "running")
        assert final["progress"] == 100
        assert final["finishedAt"] and final["startedAt"] and final["encoder"] == "libx264"
        assert 86000 < final["expiresIn"] <= 86400

        url = final["downloadUrl"]
        async with http.head(url) as resp:
            assert resp.status == 200
            size = int(resp.headers["Content-Length"])
            assert resp.headers["Content-Type"] == "video/mp4"
            assert "hd-720p.mp4" in resp.headers["Content-Disposition"]
        async with http.get(url, headers={"Range": "bytes=0-99"}) as resp:
            assert resp.status == 206
            assert len(await resp.read()) == 100
        output = tmp_path / "out.mp4"
        async with http.get(url) as resp:
            assert resp.status == 200
            output.write_bytes(await resp.read())
        assert output.stat().st_size == size

        async with http.get(
            f"{platform.base_url}/api/v1/jobs/{created['jobId']}",
            headers={"Authorization": f"Bearer {platform.admin_key}"},
        ) as resp:
            media = await resp.json()
            assert resp.status == 200
        assert media["success"] is True
        assert media["data"]["id"] == created["jobId"]
        assert media["data"]["status"] == "completed"
        assert media["data"]["progress"] == 100
        assert media["data"]["result"]["file_size"] == size

    assert top_level_atoms(output).index("moov") < top_level_atoms(output).index("mdat")
    with av.open(str(clips["hd"])) as src, av.open(str(output)) as out:
        video = out.streams.video[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (1280, 720)
        assert out.streams.audio[0].codec_context.name == "aac"
        assert out.duration is not None and src.duration is not None
        assert abs(out.duration - src.duration) / av.time_base <= 0.1
    assert final["outputProbe"]["width"] == 1280
    assert final["sourceProbe"]["width"] == 1920


async def test_a_source_that_is_not_a_video_fails_with_a_clear_message(platform: Platform, source_server: str) -> None:
    async with aiohttp.ClientSession() as http:
        # Declared as text: refused at submit (see test_source_checks). Labelled binary: the probe tells.
        created = await submit(
            http, platform.base_url, platform.admin_key, {"sourceUrl": source_server + "/disguised.mp4"}
        )
        final, _ = await follow(http, platform.base_url, platform.admin_key, created["jobId"])
        assert final["status"] == "failed"
        assert final["failureCode"] == "probe_failed"
        assert final["failureMessage"].startswith("The source is not a media file FFmpeg can read")
        assert final["downloadUrl"] is None


async def test_another_accounts_job_is_not_found_in_both_dialects(platform: Platform, source_server: str) -> None:
    other = await platform.new_key(email="other@example.com")
    async with aiohttp.ClientSession() as http:
        created = await submit(
            http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/silent.mp4"}
        )
        job_id = created["jobId"]
        async with http.get(f"{platform.base_url}/ondemand/status/{job_id}", headers={"X-API-Key": other}) as resp:
            assert resp.status == 404
            assert await resp.json() == {"code": "not_found", "message": "No such job."}
        async with http.get(
            f"{platform.base_url}/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {other}"}
        ) as resp:
            assert resp.status == 404
            body = await resp.json()
            assert body["success"] is False
            assert body["error"]["code"] == "RESOURCE_NOT_FOUND"
        async with http.get(f"{platform.base_url}/api/v1/jobs", headers={"X-API-Key": other}) as resp:
            listing = await resp.json()
            assert listing["data"]["items"] == []
            assert listing["data"]["pagination"]["total_items"] == 0
        await follow(http, platform.base_url, platform.admin_key, job_id)


async def test_damaged_packets_reach_the_jobs_log(
    platform: Platform, source_server: str, clips: dict[str, Path], tmp_path: Path
) -> None:
    served = clips["hd"].parent  # what the source server publishes under /media/
    damage(clip(tmp_path / "src.mkv", codec="mjpeg", pix_fmt="yuvj420p", seconds=3.0), served / "damaged.mkv")
    async with aiohttp.ClientSession() as http:
        created = await submit(
            http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/damaged.mkv"}
        )
        final, _ = await follow(http, platform.base_url, platform.admin_key, created["jobId"])
    assert final["status"] == "success"
    settings = BaseServiceSettings(data_dir=platform.data_dir, database_url=platform.database_url)
    async with open_database(settings.database_url_for("jobs"), JobsTable.metadata) as sessions, sessions.begin() as s:
        rows = (await s.exec(select(JobLog).where(JobLog.job_id == uuid.UUID(created["jobId"])))).all()
    skipped = [r for r in rows if r.message == "Skipped a damaged packet of the source."]
    assert skipped and all(r.level == "WARNING" and r.attempt == 1 and r.details for r in skipped)
