"""Bulk creates and Idempotency-Key over HTTP, as the SDK sends them."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp

from tests.e2e.test_classic import Api
from tests.harness import Platform


def _jobs(source: str, count: int) -> list[dict[str, object]]:
    return [
        {"codec": "h264", "resolution": "480p", "fps": 30, "sourceUrl": source, "externalId": f"item-{i}"}
        for i in range(count)
    ]


async def test_dry_run_create_status_and_confirm(platform: Platform, source_server: str) -> None:
    source = f"{source_server}/media/silent.mp4"
    async with aiohttp.ClientSession() as http:
        api = Api(http, platform.base_url, platform.admin_key)
        jobs = [*_jobs(source, 2), {"codec": "h264", "resolution": "480p", "fps": 30, "sourceUrl": "ftp://x/y.mp4"}]

        dry = await api.call("POST", "/jobs/bulk", json={"jobs": jobs, "settings": {"dryRun": True}})
        assert dry["totalJobs"] == 3 and dry["totalEstimatedNeu"] == 2 and dry["reserved"] == 0
        assert [j["jobId"] for j in dry["jobs"]] == [None, None, None]
        assert dry["jobs"][2]["error"] and dry["jobs"][2]["status"] == "failed"
        listed = await api.call("GET", "/api/v1/jobs")
        assert listed["data"]["pagination"]["total_items"] == 0  # a dry run creates nothing
        assert (await api.call("GET", "/tokens/balance"))["reserved"] == 0

        strict = await api.call("POST", "/jobs/bulk", json={"jobs": jobs, "settings": {"failFast": True}})
        assert [j["jobId"] for j in strict["jobs"]] == [None, None, None] and strict["reserved"] == 0

        # Settings fill in what each job leaves out; a job's own value wins.
        jobs[1]["container"] = "mov"
        made = await api.call("POST", "/jobs/bulk", json={"jobs": jobs[:2], "settings": {"container": "mkv"}})
        ids = [j["jobId"] for j in made["jobs"]]
        assert all(ids) and [j["status"] for j in made["jobs"]] == ["created", "created"]
        assert made["reserved"] == 0  # the classic flow reserves at approval

        unknown = str(uuid.uuid4())
        status = await api.call("GET", f"/jobs/bulk/status?ids={ids[0]},{unknown},{ids[1]}")
        assert [s["id"] for s in status["jobs"]] == ids and status["missing"] == [unknown]
        assert [s["container"] for s in status["jobs"]] == ["mkv", "mov"]

        confirmed = await api.call("POST", "/jobs/bulk/confirm", json={"jobIds": [*ids, unknown]})
        assert confirmed["queued"] == 2 and {j["id"] for j in confirmed["jobs"]} == set(ids)
        finished = [await api.wait(job_id) for job_id in ids]
        assert [f["status"] for f in finished] == ["success", "success"]
        assert (await api.call("GET", "/tokens/balance"))["available"] == 598


async def test_idempotency_key_replays_conflicts_and_is_per_route(platform: Platform, source_server: str) -> None:
    source = f"{source_server}/media/silent.mp4"
    body = {"codec": "h264", "resolution": "480p", "fps": 30, "sourceUrl": source, "metadata": {"a": 1, "b": 2}}
    async with aiohttp.ClientSession() as http:
        api = Api(http, platform.base_url, platform.admin_key)
        key = {"Idempotency-Key": "order-1234"}
        first = await api.call("POST", "/jobs", json=body, headers=key)
        # The same body re-serialized in another key order is the same request.
        reordered = {"metadata": {"b": 2, "a": 1}, **{k: v for k, v in reversed(body.items()) if k != "metadata"}}
        again = await api.call("POST", "/jobs", json=reordered, headers=key)
        assert again["jobId"] == first["jobId"]
        conflict = await api.call("POST", "/jobs", 409, json={**body, "fps": 25}, headers=key)
        assert conflict["code"] == "idempotency_conflict"
        # The same key on another route is another request.
        bulk = await api.call("POST", "/jobs/bulk", json={"jobs": [body]}, headers=key)
        assert bulk["jobs"][0]["jobId"] not in (None, first["jobId"])
        bulk_again = await api.call("POST", "/jobs/bulk", json={"jobs": [body]}, headers=key)
        assert bulk_again == bulk
        listed = await api.call("GET", "/api/v1/jobs")
        assert listed["data"]["pagination"]["total_items"] == 2

        encode = {"sourceUrl": source, "codec": "h264", "resolution": "480p"}
        racing = await asyncio.gather(
            *(
                http.post(
                    f"{platform.base_url}/ondemand/encode",
                    json=encode,
                    headers={**api.headers, "Idempotency-Key": "race-1"},
                )
                for _ in range(5)
            )
        )
        answers = [(r.status, await r.json()) for r in racing]
        created = {a["jobId"] for s, a in answers if s == 200}
        assert len(created) == 1, answers
        assert all(a["code"] == "idempotency_in_progress" for s, a in answers if s != 200), answers
        assert all(s in (200, 409) for s, _ in answers)
        too_long = await api.call("POST", "/jobs", 400, json=body, headers={"Idempotency-Key": "k" * 256})
        assert too_long["code"] == "invalid_request"
