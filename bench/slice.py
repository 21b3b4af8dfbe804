"""Platform overhead: one encode through `vidkiln up` (REST, gRPC, JetStream, worker, events,
download link) against the same transcode called directly, alternating, medians of N runs.

    python -m bench.slice [--runs 3] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import aiohttp

from bench._platform import platform, serving
from services.encoder.pipeline import EncodeSpec, transcode
from tests.media import synthesize

SPEC = EncodeSpec("h264", "mp4", "720p", "fast", "better", "transcode-aac", "no-upscale")


class _Quiet:
    def progress(self, percent: float) -> None: ...

    def log(self, level: str, message: str, details: dict[str, object] | None = None) -> None: ...

    def beat(self) -> None: ...


def direct(src: Path, out: Path) -> float:
    started = time.perf_counter()
    transcode(src, out, SPEC, report=_Quiet(), stop=threading.Event(), workdir=out.parent)
    return time.perf_counter() - started


async def through_platform(http: aiohttp.ClientSession, url: str, key: str, source: str) -> tuple[float, float, float]:
    """Seconds from POST to a `success` status with a download link (polled every 100 ms, as a
    client would, not faster: polling competes with the encode for the CPU); the POST's own
    latency; and the worker's run time from the job's startedAt/finishedAt."""
    headers = {"X-API-Key": key}
    started = time.perf_counter()
    body = {"sourceUrl": source, "codec": "h264", "resolution": "720p", "preset": "fast", "quality": "better"}
    async with http.post(f"{url}/ondemand/encode", json=body, headers=headers) as resp:
        job = await resp.json()
    accepted = time.perf_counter() - started
    while True:
        async with http.get(f"{url}/ondemand/status/{job['jobId']}", headers=headers) as resp:
            status = await resp.json()
        if status["status"] == "success" and status["downloadUrl"]:
            worker = datetime.fromisoformat(status["finishedAt"]) - datetime.fromisoformat(status["startedAt"])
            return time.perf_counter() - started, accepted, worker.total_seconds()
        if status["status"] in ("failed", "canceled"):
            raise RuntimeError(status)
        await asyncio.sleep(0.1)


async def main(runs: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = synthesize(root / "source.mp4", seconds=seconds)
        directs, platforms, accepts, workers = [], [], [], []
        # The benchmark polls faster than a real client: its limit is raised.
        async with serving(root) as base, platform(root / "data", rate_limit_per_minute="100000") as running:
            async with aiohttp.ClientSession() as http:
                for i in range(runs):
                    directs.append(await asyncio.to_thread(direct, src, root / f"direct-{i}.mp4"))
                    total, accepted, worker = await through_platform(
                        http, running.url, running.key, f"{base}/source.mp4"
                    )
                    platforms.append(total)
                    accepts.append(accepted)
                    workers.append(worker)
    d, p, a, w = (statistics.median(x) for x in (directs, platforms, accepts, workers))
    print(f"source: {seconds:.0f} s 1080p30 + AAC -> h264 720p fast/better, {runs} alternating runs, medians")
    print(f"  direct transcode (baseline)   {d:7.2f} s")
    print(f"  through the platform          {p:7.2f} s   ratio {p / d:.2f}x  (overhead {p - d:+.2f} s)")
    print(f"  worker run (fetch, probe, encode, store)  {w:5.2f} s   ratio {w / d:.2f}x")
    print(f"  POST /ondemand/encode answer  {a * 1000:7.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.seconds))
