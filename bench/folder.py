"""Folder ingest of 1,000 objects: listing, a check of each object, pricing, 1,000 jobs stored and queued.

A running platform (`vidkiln up`, every service its own process) ingests an S3 prefix of 1,000 video
objects (plus 100 other files it must skip) from moto in server mode; the time is from the request to
the answer naming every job. Baseline: listing the same prefix straight from the bucket with boto3 in
this process, so the ratio says what the platform adds over the listing a client would do anyway.
Each object is a few bytes: this measures ingest, not encoding (the jobs then fail their probe).

    python -m bench.folder [--objects 1000] [--runs 3]

Target: 1,000 objects in under 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench._platform import platform
from tests.fakes.s3 import FakeS3, fake_s3


def _seed(s3: FakeS3, objects: int) -> str:
    bucket = s3.create_bucket("bench")
    s3.seed(bucket, [f"in/clip-{n:05d}.mp4" for n in range(objects)])
    s3.seed(bucket, [f"in/notes-{n:03d}.txt" for n in range(100)])
    return bucket


def _list(s3: FakeS3, bucket: str) -> float:
    started = time.perf_counter()
    paginator = s3.client().get_paginator("list_objects_v2")
    count = sum(len(page.get("Contents", [])) for page in paginator.paginate(Bucket=bucket, Prefix="in/"))
    assert count > 0
    return time.perf_counter() - started


async def _ingest(url: str, key: str, body: dict[str, Any]) -> tuple[float, int]:
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        async with http.post(
            f"{url}/ondemand/ingest/folder", json=body, headers={"X-API-Key": key}, timeout=aiohttp.ClientTimeout(300)
        ) as resp:
            answer = await resp.json()
            assert resp.status == 200, answer
        return time.perf_counter() - started, len(answer["jobs"])


async def main(objects: int, runs: int) -> None:
    with fake_s3() as s3, tempfile.TemporaryDirectory() as tmp:
        keys = s3.create_user()
        settings = {"rate_limit_per_minute": "100000", "max_running_per_account": "1"}
        async with platform(Path(tmp) / "data", **settings) as running:
            ours, listing = [], []
            for _ in range(runs):
                bucket = _seed(s3, objects)
                listing.append(_list(s3, bucket))
                body = {
                    "sourceS3": {
                        "bucket": bucket,
                        "prefix": "in/",
                        "region": s3.region,
                        "endpoint": s3.endpoint,
                        "accessKeyId": keys.access_key_id,
                        "secretAccessKey": keys.secret_access_key,
                    },
                    "resolution": "480p",
                }
                took, jobs = await _ingest(running.url, running.key, body)
                assert jobs == objects, jobs
                ours.append(took)
        o, b = statistics.median(ours), statistics.median(listing)
        print(f"{objects} video objects (+100 others) per run, {runs} runs")
        print(f"boto3 listing of the prefix      {b:7.2f} s")
        print(f"POST /ondemand/ingest/folder     {o:7.2f} s  ({objects / o:.0f} objects/s, {o / b:.1f}x the listing)")
        print(f"target: {objects} objects in under 10 s -> {'met' if o < 10 else 'MISSED'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.objects, args.runs))
