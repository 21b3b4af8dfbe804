"""The API's hot path, against a running platform (`vidkiln up`, every service its own process).

1. Authenticated `GET /ondemand/status/{id}` with 50 concurrent connections (wrk), next to a bare
   aiohttp JSON handler serving the same body from its own process, alternating runs: requests/s,
   p99 and their ratio. Targets: >= 0.40x the bare handler, p99 < 25 ms.
2. Create -> encoder start: `startedAt - createdAt` of jobs created one after another on an idle
   worker (p50 target < 20 ms).
3. 10,000 queued jobs in the account: status reads and job listing (first page, and a page deep
   in by cursor) measured before and after, as ratios.

Needs wrk (`apt-get install wrk`); the benchmark installs it when it can.

    python -m bench.api [--seconds 8] [--runs 3] [--jobs 200] [--queued 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench._platform import Running, free_port, platform, serving
from services.common.config import BaseServiceSettings
from services.common.db import open_database
from services.jobs.models import Job, JobsTable
from tests.media import synthesize

CONNECTIONS = 50
# The benchmark is one client hammering one key: its limits are raised so that it measures the
# gateway, not the 429s (the limiter still runs on every request).
LIMITS = {"rate_limit_per_minute": "1000000000", "rate_limit_encode_per_minute": "1000000"}


@dataclass(frozen=True)
class Load:
    rps: float
    p99_ms: float
    errors: int


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None and shutil.which("apt-get"):
        print("installing Debian's wrk ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True)
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("bench/api.py needs wrk: sudo apt-get install wrk")
    return found


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


async def load(url: str, key: str, seconds: float) -> Load:
    """wrk with 2 threads and 50 connections on one URL."""
    proc = await asyncio.create_subprocess_exec(
        wrk_binary(),
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{seconds:.0f}s",
        "--latency",
        "-H",
        f"X-API-Key: {key}",
        url,
        stdout=asyncio.subprocess.PIPE,
    )
    out = (await proc.communicate())[0].decode()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Load(rps, float(value) * _UNITS[unit], int(errors.group(1)) if errors else 0)


async def bare_server(body: dict[str, Any], root: Path) -> tuple[asyncio.subprocess.Process, str]:
    (root / "body.json").write_text(json.dumps(body))
    port = free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench._bare", str(port), str(root / "body.json"))
    url = f"http://127.0.0.1:{port}/ondemand/status/{body['jobId']}"
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return proc, url
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the bare server did not start")


async def encode(http: aiohttp.ClientSession, running: Running, source: str) -> dict[str, Any]:
    """One job, polled every 10 ms until it ends."""
    headers = {"X-API-Key": running.key}
    body = {"sourceUrl": source, "codec": "h264", "resolution": "480p"}
    async with http.post(f"{running.url}/ondemand/encode", json=body, headers=headers) as resp:
        job = await resp.json()
        assert resp.status == 200, job
    while True:
        async with http.get(f"{running.url}/ondemand/status/{job['jobId']}", headers=headers) as resp:
            status: dict[str, Any] = await resp.json()
        if status["status"] in ("success", "failed", "canceled"):
            assert status["status"] == "success", status
            return status
        await asyncio.sleep(0.01)


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def timed_gets(http: aiohttp.ClientSession, url: str, key: str, n: int = 300) -> float:
    """Median milliseconds of n sequential GETs."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        async with http.get(url, headers={"X-API-Key": key}) as resp:
            await resp.read()
            assert resp.status == 200, await resp.text()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def fill_queue(running: Running, job_id: str, count: int) -> None:
    """`count` queued jobs in the account of `job_id`, as the scheduler leaves them once handed to busy workers."""
    settings = BaseServiceSettings(data_dir=running.data_dir)
    now = datetime.now(UTC)
    options = {"codec": "h264", "resolution": "720p", "container": "mp4", "preset": "fast", "quality": "better"}
    async with open_database(settings.database_url_for("jobs"), JobsTable.metadata) as sessions:
        async with sessions.begin() as session:
            known = await session.get(Job, uuid.UUID(job_id))
            assert known is not None
            account_id = known.account_id
        for start in range(0, count, 1000):
            async with sessions.begin() as session:
                for _ in range(start, min(count, start + 1000)):
                    queued_id = uuid.uuid4()
                    session.add(
                        Job(
                            id=queued_id,
                            account_id=account_id,
                            status="queued",
                            options=options,
                            source_url="http://example.com/source.mp4",
                            output_key=f"outputs/{queued_id}/output.mp4",
                            output_filename="source-720p.mp4",
                            created_at=now,
                            queued_at=now,
                            dispatched_at=now,
                            published=True,
                            updated_at=now,
                        )
                    )


async def main(seconds: float, runs: int, jobs: int, queued: int) -> None:
    wrk_binary()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        synthesize(root / "tiny.mp4", width=320, height=240, seconds=0.3, audio=False)
        async with serving(root) as base, platform(root / "data", **LIMITS) as running:
            async with aiohttp.ClientSession() as http:
                done = await encode(http, running, f"{base}/tiny.mp4")
                status_url = f"{running.url}/ondemand/status/{done['jobId']}"
                bare, bare_url = await bare_server(done, root)
                try:
                    gateway_runs, bare_runs = [], []
                    for _ in range(runs):
                        bare_runs.append(await load(bare_url, running.key, seconds))
                        gateway_runs.append(await load(status_url, running.key, seconds))
                finally:
                    bare.terminate()
                    await bare.wait()

                latencies = []
                for _ in range(jobs):
                    status = await encode(http, running, f"{base}/tiny.mp4")
                    latencies.append((_at(status["startedAt"]) - _at(status["createdAt"])).total_seconds() * 1000)

                list_url = f"{running.url}/api/v1/jobs?items_per_page=20"
                before = {
                    "status": await timed_gets(http, status_url, running.key),
                    "list": await timed_gets(http, list_url, running.key),
                }
                await fill_queue(running, done["jobId"], queued)
                async with http.get(f"{list_url}&items_per_page=100", headers={"X-API-Key": running.key}) as resp:
                    page = (await resp.json())["data"]
                    assert page["pagination"]["total_items"] >= queued, page["pagination"]
                    cursor = page["pagination"]["next_cursor"]
                deep = f"{list_url}&cursor={cursor}"
                for _ in range(queued // 100 - 10):  # walk the cursor deep into the queue
                    async with http.get(deep, headers={"X-API-Key": running.key}) as resp:
                        cursor = (await resp.json())["data"]["pagination"]["next_cursor"] or cursor
                    deep = f"{list_url}&cursor={cursor}"
                after = {
                    "status": await timed_gets(http, status_url, running.key),
                    "list": await timed_gets(http, list_url, running.key),
                    "deep": await timed_gets(http, deep, running.key),
                }
                queued_load = await load(status_url, running.key, seconds)

    g_rps = statistics.median(r.rps for r in gateway_runs)
    b_rps = statistics.median(r.rps for r in bare_runs)
    g_p99 = statistics.median(r.p99_ms for r in gateway_runs)
    b_p99 = statistics.median(r.p99_ms for r in bare_runs)
    errors = sum(r.errors for r in gateway_runs)
    print(
        f"GET /ondemand/status/{{id}}, {CONNECTIONS} connections (wrk -t2), {runs} alternating runs of {seconds:.0f} s"
    )
    print(f"  bare aiohttp handler (baseline)  {b_rps:9.0f} req/s   p99 {b_p99:6.2f} ms")
    print(f"  gateway, authenticated           {g_rps:9.0f} req/s   p99 {g_p99:6.2f} ms   ratio {g_rps / b_rps:.2f}x")
    print(f"  non-2xx answers from the gateway: {errors}")
    lat = sorted(latencies)
    p50, p90 = statistics.median(lat), lat[int(len(lat) * 0.9)]
    print(f"create -> encoder start over {jobs} jobs: p50 {p50:.1f} ms, p90 {p90:.1f} ms")
    print(f"with {queued} queued jobs in the account (medians of 300 sequential requests):")
    for name, label in (("status", "status read"), ("list", "list, page 1")):
        ratio = after[name] / before[name]
        print(f"  {label:<13} {before[name]:6.2f} ms -> {after[name]:6.2f} ms   ratio {ratio:.2f}x")
    pages = queued // 100 - 10
    deepest = after["deep"]
    print(f"  list, {pages} pages deep by cursor  {deepest:6.2f} ms   ratio to page 1 {deepest / after['list']:.2f}x")
    print(
        f"  status under load  {queued_load.rps:.0f} req/s   ratio to an empty account {queued_load.rps / g_rps:.2f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--queued", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.runs, args.jobs, args.queued))
