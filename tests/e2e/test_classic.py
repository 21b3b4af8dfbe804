"""The Encode API's classic flow, as the SDK drives it: POST /jobs, upload, approve, confirm, status, delete."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

import aiohttp
import av

from tests.harness import Platform


class Api:
    """The SDK's calls, each checked for the status it should answer with."""

    def __init__(self, http: aiohttp.ClientSession, base: str, key: str) -> None:
        self.http, self.base, self.headers = http, base, {"X-API-Key": key}

    async def call(
        self, method: str, path: str, expect: int = 200, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        async with self.http.request(
            method, self.base + path, headers={**self.headers, **(headers or {})}, **kwargs
        ) as resp:
            body = await resp.json()
            assert resp.status == expect, (method, path, resp.status, body)
            return body

    async def wait(self, job_id: str, timeout: float = 90.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status: dict[str, Any] = await self.call("GET", f"/jobs/{job_id}/status")
            if status["status"] in ("success", "failed", "canceled"):
                return status
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.05)


async def test_upload_probe_approve_confirm_download_delete(
    platform: Platform, clips: dict[str, Path], tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http, platform.base_url, platform.admin_key)
        before = await api.call("GET", "/tokens/balance")
        assert before["available"] == 600 and before["reserved"] == 0 and before["trialExpiresAt"]

        created = await api.call(
            "POST",
            "/jobs",
            json={
                "codec": "h264",
                "resolution": "720p",
                "fps": 24,
                "externalId": "order-7",
                "metadata": {"customer": 42},
                "originalFilename": "Holiday Film.mov",
            },
        )
        job_id = created["jobId"]
        assert "status" not in created  # only an auto-confirmed job says it is queued
        assert created["externalId"] == "order-7" and created["metadata"] == {"customer": 42}
        assert created["outputFilename"] == "Holiday Film-720p.mp4"
        assert created["upload"]["key"] and created["upload"]["url"].startswith(platform.base_url + "/uploads/")
        assert created["output"] == {"key": f"outputs/{job_id}/output.mp4", "publicUrl": None}
        status = await api.call("GET", f"/jobs/{job_id}/status")
        assert status["status"] == "created" and status["ingest"] == "awaiting_upload"

        # Nothing to probe or approve before the upload arrives.
        early = await api.call("GET", f"/jobs/{job_id}/probe-duration", 400)
        assert early["code"] == "invalid_request"

        # The upload URL is a presigned PUT: no key, and it cannot be bent to another job.
        url = created["upload"]["url"]
        elsewhere = ("e" if job_id[0] == "f" else "f") + job_id[1:]
        async with http.put(url.replace(job_id, elsewhere), data=b"x") as resp:
            assert resp.status == 403
        async with http.put(url.replace("sig=", "sig=A"), data=b"x") as resp:
            assert resp.status == 403
        async with http.put(url, data=clips["hd"].open("rb")) as resp:
            uploaded = await resp.json()
            assert resp.status == 200, uploaded
        assert uploaded["size"] == clips["hd"].stat().st_size
        assert uploaded["ETag"] == hashlib.md5(clips["hd"].read_bytes(), usedforsecurity=False).hexdigest()
        status = await api.call("GET", f"/jobs/{job_id}/status")
        assert status["ingest"] == "uploaded" and status["status"] == "created"
        async with http.put(url, data=clips["hd"].open("rb")) as resp:  # replaced, as S3 would, until approved
            assert resp.status == 200

        probe = await api.call("GET", f"/jobs/{job_id}/probe-duration")
        assert abs(probe["durationSec"] - 2.0) < 0.1
        assert abs(probe["durationMinutes"] - probe["durationSec"] / 60) < 0.001

        approved = await api.call("POST", f"/jobs/{job_id}/approve-unified", json={"resolution": "1080p"})
        # 1080p h264 one pass: 3 NEU a minute for two seconds, classic (no on-demand multiplier).
        assert approved["ok"] is True
        assert approved["estimate"]["perMinuteNeu"] == 3 and approved["estimate"]["totalNeu"] == 1
        assert approved["estimate"]["reserved"] == 1
        async with http.put(url, data=b"other bytes") as resp:  # priced from this source: it stays
            assert resp.status == 409
        held = await api.call("GET", "/tokens/balance")
        assert held["reserved"] == 1 and held["available"] == 599
        status = await api.call("GET", f"/jobs/{job_id}/status")
        assert status["status"] == "created"  # approved, not queued
        assert status["outputFilename"] == "Holiday Film-1080p.mp4"

        confirmed = await api.call("POST", f"/jobs/{job_id}/confirm")  # no body, as the SDK sends it
        assert confirmed["ok"] is True and confirmed["status"] == "queued"
        busy = await api.call("DELETE", f"/jobs/{job_id}", 409)
        assert busy["code"] == "job_active"

        done = await api.wait(job_id)
        assert done["status"] == "success", done
        assert done["pct"] == 100 and done["downloadUrl"] and done["output"]["publicUrl"] == done["downloadUrl"]
        assert done["sourceProbe"]["width"] == 1920 and done["outputProbe"]["height"] == 1080
        assert done["requestedExecution"]["fps"] == 24 and done["requestedExecution"]["frameRatePolicy"] == "force"
        assert done["billingSummary"]["chargedNeu"] == 1 and done["executionReport"]["attempts"] == 1
        after = await api.call("GET", "/tokens/balance")
        assert after == {**after, "available": 599, "reserved": 0}
        output = tmp_path / "out.mp4"
        async with http.get(done["downloadUrl"]) as resp:
            assert resp.status == 200
            output.write_bytes(await resp.read())
        with av.open(str(output)) as container:
            assert container.streams.video[0].average_rate == 24

        deleted = await api.call("DELETE", f"/jobs/{job_id}")
        assert deleted["ok"] is True and deleted["jobId"] == job_id and deleted["jobRetained"] is True
        assert deleted["objectsDeleted"] >= 3  # output, poster sizes, the uploaded source
        async with http.get(done["downloadUrl"]) as resp:
            assert resp.status == 404
        kept = await api.call("GET", f"/jobs/{job_id}/status")
        assert kept["status"] == "success" and kept["billingSummary"]["chargedNeu"] == 1
        again = await api.call("DELETE", f"/jobs/{job_id}")
        assert again["objectsDeleted"] == 0


async def test_streamed_chunks_become_the_source(platform: Platform, clips: dict[str, Path]) -> None:
    data = clips["silent"].read_bytes()
    pieces = [data[: len(data) // 3], data[len(data) // 3 : 2 * len(data) // 3], data[2 * len(data) // 3 :]]
    async with aiohttp.ClientSession() as http:
        api = Api(http, platform.base_url, platform.admin_key)
        job_id = (await api.call("POST", "/jobs", json={"codec": "h264", "resolution": "480p", "fps": 30}))["jobId"]
        init = await api.call("POST", f"/jobs/{job_id}/stream/init")
        assert init["ok"] is True and init["uploadId"] and init["inputKey"]
        parts = []
        # Out of order, as parallel uploaders send them; the finalize list puts them right.
        for index in (3, 1, 2):
            answer = await api.call(
                "PUT",
                f"/jobs/{job_id}/stream/chunk/{index}",
                data=pieces[index - 1],
                headers={"Content-Type": "application/octet-stream"},
            )
            parts.append({"PartNumber": index, "ETag": answer["ETag"]})
        bad = await api.call("PUT", f"/jobs/{job_id}/stream/chunk/10001", 400, data=b"x")
        assert bad["code"] == "invalid_request"
        wrong = [{**p, "ETag": "0" * 32} if p["PartNumber"] == 2 else p for p in parts]
        refused = await api.call("POST", f"/jobs/{job_id}/stream/finalize", 400, json={"parts": wrong})
        assert refused["code"] == "invalid_body"
        missing = await api.call(
            "POST", f"/jobs/{job_id}/stream/finalize", 400, json={"parts": [*parts, {"PartNumber": 4, "ETag": "x"}]}
        )
        assert missing["code"] == "invalid_request"
        final = await api.call("POST", f"/jobs/{job_id}/stream/finalize", json={"parts": parts})
        assert final["size"] == len(data) and final["parts"] == 3
        await api.call("POST", f"/jobs/{job_id}/confirm")
        done = await api.wait(job_id)
        assert done["status"] == "success", done
        assert done["sourceProbe"]["durationSec"] > 0.9

        # Aborting drops what was sent; the job still waits for its source.
        other = (await api.call("POST", "/jobs", json={"codec": "h264", "resolution": "480p", "fps": 30}))["jobId"]
        await api.call("POST", f"/jobs/{other}/stream/init")
        await api.call("PUT", f"/jobs/{other}/stream/chunk/1", data=b"partial")
        assert (await api.call("POST", f"/jobs/{other}/stream/abort"))["ok"] is True
        empty = await api.call("POST", f"/jobs/{other}/stream/finalize", 400)
        assert empty["code"] == "invalid_request"
        canceled = await api.call("POST", f"/jobs/{other}/cancel")
        assert canceled == {"ok": True, "released": 0, "status": "canceled"}


async def test_url_source_with_confirm_queues_at_once(platform: Platform, source_server: str) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http, platform.base_url, platform.admin_key)
        created = await api.call(
            "POST",
            "/jobs",
            json={"codec": "h264", "resolution": "480p", "fps": 30, "sourceUrl": f"{source_server}/media/hd.mp4"},
        )
        assert created["upload"] is None and created["sourceFilename"] == "hd.mp4"
        queued = await api.call(
            "POST",
            "/jobs",
            json={
                "codec": "h265",
                "resolution": "720p",
                "fps": 30,
                "passes": 2,
                "confirm": True,
                "sourceUrl": f"{source_server}/media/hd.mp4",
            },
        )
        assert queued["status"] == "queued" and queued["upload"] is None
        # 720p (2) x h265 (1.5) x two passes (1.5) = 4.5 NEU a minute, for two seconds: 1.
        assert queued["estimate"]["perMinuteNeu"] == 4.5 and queued["estimate"]["reserved"] == 1
        assert queued["estimate"]["requestedPasses"] == 2 and queued["estimate"]["effectivePasses"] == 2

        # Cancel before it finishes, or find it finished: either way the credits add up.
        canceled = await api.call("POST", f"/jobs/{queued['jobId']}/cancel")
        assert canceled["ok"] is True
        if canceled["status"] == "canceled" and "note" not in canceled:
            assert canceled["released"] == 1
        first = await api.call("POST", f"/jobs/{created['jobId']}/cancel")
        assert first == {"ok": True, "released": 0, "status": "canceled"}
        second = await api.call("POST", f"/jobs/{created['jobId']}/cancel")
        assert second["ok"] is True and second["released"] == 0 and second["note"]
        balance = await api.call("GET", "/tokens/balance")
        assert balance["reserved"] == 0


async def test_bad_requests_are_refused_with_the_contracts_codes(platform: Platform) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http, platform.base_url, platform.admin_key)
        missing = await api.call("POST", "/jobs", 400, json={"codec": "h264"})
        assert {issue["path"][0] for issue in missing["issues"]} >= {"resolution", "fps"}
        assert (await api.call("POST", "/jobs", 400, json={"codec": "h264", "resolution": "720p", "fps": 0}))[
            "code"
        ] == "invalid_body"
        gpu = await api.call(
            "POST", "/jobs", 400, json={"codec": "h264", "resolution": "720p", "fps": 30, "policy": "gpu_only"}
        )
        assert gpu["code"] == "incompatible_options"
        webm = await api.call(
            "POST", "/jobs", 400, json={"codec": "h264", "resolution": "720p", "fps": 30, "container": "webm"}
        )
        assert webm["code"] == "incompatible_options"
        unknown = await api.call("POST", "/jobs", 400, json={"codec": "h264", "resolution": "720p", "fps": 30, "x": 1})
        assert unknown["code"] == "invalid_body"
        nothing = await api.call("GET", "/jobs/bulk/status", 400)
        assert nothing["code"] == "invalid_request"
