"""What customers read of a job names no internal host: workers appear under an opaque alias."""

from __future__ import annotations

import json
import socket

import aiohttp

from services.encoder.domain import public_worker
from tests.e2e.helpers import follow, submit
from tests.e2e.test_classic import Api
from tests.harness import Platform


async def test_job_logs_carry_no_host_name(platform: Platform, source_server: str) -> None:
    async with aiohttp.ClientSession() as http:
        job = await submit(
            http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/silent.mp4"}
        )
        done, _ = await follow(http, platform.base_url, platform.admin_key, job["jobId"])
        assert done["status"] == "success", done
        logs = await Api(http, platform.base_url, platform.admin_key).call("GET", f"/api/v1/jobs/{job['jobId']}/logs")
    text = json.dumps(logs) + json.dumps(done)
    assert socket.gethostname() not in text
    workers = {e["details"]["worker"] for e in logs["data"]["logs"] if (e.get("details") or {}).get("worker")}
    assert len(workers) == 1 and workers.pop().startswith("worker-")
    assert public_worker("host-a") != public_worker("host-b")
