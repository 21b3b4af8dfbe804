"""Uploads and downloads of large files through the gateway, against a running platform (`vidkiln up`,
every service its own process), next to a bare aiohttp app doing the same from its own process
(bench/_transfer_bare.py: multipart to disk, FileResponse back), alternating runs.

The gateway does more per upload: SHA-256 of every byte, an fsync, staging in the blob store and
one RPC to ingest, which moves the bytes to their content address and records the file. Each run
uploads different bytes, so none is deduplicated, and every dirty page is written back before each
timed transfer. Prints MiB/s of each, the ratios (target >= 0.5x), the latency of GET /health while
one more (untimed) upload runs, and the peak RSS (VmHWM) of every process (target < 200 MB each).

With --s3 the platform's blob store is a bucket on a moto server of its own (a process beside the
platform): uploads go on to the bucket (multipart) and downloads stream back from it through the
gateway. moto keeps objects in memory and temporary files and copies slowly, so it bounds these
figures; no target.

    python -m bench.transfer [--gib 2] [--runs 3] [--s3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench._platform import free_port, platform

BLOCK = 4 << 20
TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=600)


@dataclass(frozen=True)
class Body:
    """`size` bytes: a run's own 64-byte prefix, then one random block over and over."""

    size: int
    prefix: bytes
    block: bytes

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self.prefix
        left = self.size - len(self.prefix)
        while left > 0:
            yield self.block[:left] if left < len(self.block) else self.block
            left -= len(self.block)

    def sha256(self) -> str:
        digest = hashlib.sha256(self.prefix)
        left = self.size - len(self.prefix)
        while left > 0:
            digest.update(self.block[:left] if left < len(self.block) else self.block)
            left -= len(self.block)
        return digest.hexdigest()


def multipart(body: Body, field: str = "file") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field(field, body.chunks(), filename="big.bin", content_type="application/octet-stream")
    return form


async def settle() -> None:
    """Writes back every dirty page first: no run pays for the previous run's writes."""
    await asyncio.to_thread(os.sync)


async def timed_download(http: aiohttp.ClientSession, url: str, headers: dict[str, str], size: int) -> float:
    await settle()
    started = time.perf_counter()
    got = 0
    async with http.get(url, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        async for chunk in resp.content.iter_chunked(BLOCK):
            got += len(chunk)
    assert got == size, (got, size)
    return time.perf_counter() - started


class Probe:
    """GET /health every 20 ms from a thread of its own while an upload runs: how long the gateway's
    event loop keeps other requests waiting."""

    def __init__(self, url: str) -> None:
        self.url, self.stop, self.ms = url, threading.Event(), list[float]()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            started = time.perf_counter()
            with urllib.request.urlopen(self.url, timeout=10) as resp:
                resp.read()
            self.ms.append((time.perf_counter() - started) * 1000)

    def __enter__(self) -> Probe:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


async def gateway_round(http: aiohttp.ClientSession, base: str, key: str, body: Body) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {key}"}
    await settle()
    started = time.perf_counter()
    async with http.post(f"{base}/api/v1/files/upload", data=multipart(body), headers=headers) as resp:
        answer = await resp.json()
        assert resp.status == 200, answer
    up = time.perf_counter() - started
    data = answer["data"]
    assert data["size"] == body.size and data["checksum"] == f"sha256:{body.sha256()}", data
    down = await timed_download(http, f"{base}/api/v1/files/{data['id']}/download", headers, body.size)
    async with http.delete(f"{base}/api/v1/files/{data['id']}", headers=headers) as resp:
        assert resp.status == 200
    return up, down


async def bare_round(http: aiohttp.ClientSession, base: str, body: Body) -> tuple[float, float]:
    await settle()
    started = time.perf_counter()
    async with http.post(f"{base}/upload", data=multipart(body)) as resp:
        answer = await resp.json()
        assert resp.status == 200 and answer["size"] == body.size, answer
    up = time.perf_counter() - started
    down = await timed_download(http, f"{base}/files/{answer['name']}", {}, body.size)
    async with http.delete(f"{base}/files/{answer['name']}") as resp:
        assert resp.status == 200
    return up, down


async def start_bare(root: Path) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench._transfer_bare", str(port), str(root))
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(f"{base}/files/none") as resp:
                    if resp.status == 404:
                        return proc, base
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the bare server did not start")


@asynccontextmanager
async def moto_bucket() -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, str]]]:
    """A moto S3 server in its own process with one bucket; the platform's VIDKILN_BLOB_S3_* settings for it."""
    import boto3  # only for --s3

    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port), stderr=asyncio.subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench-secret"}  # moto without IAM: any
    try:
        for _ in range(100):
            try:
                client = boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
                await asyncio.to_thread(client.create_bucket, Bucket="vidkiln-bench")
                break
            except Exception:
                await asyncio.sleep(0.1)
        else:
            raise RuntimeError("moto did not start")
        yield (
            proc,
            {
                "blob_s3_bucket": "vidkiln-bench",
                "blob_s3_endpoint": endpoint,
                "blob_s3_force_path_style": "true",
                "blob_s3_access_key_id": keys["aws_access_key_id"],
                "blob_s3_secret_access_key": keys["aws_secret_access_key"],
                # Moving an upload to its content address, and aside to delete it, is a server-side copy in a
                # bucket: at moto's ~180 MiB/s a file delete of 2 GiB outlasts the default 10 s RPC deadline.
                "rpc_timeout": "120",
            },
        )
    finally:
        proc.terminate()
        await proc.wait()


def _status(pid: int) -> dict[str, str]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def _name(pid: int) -> str:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    words = [w.decode(errors="replace") for w in argv if w]
    if "-m" in words:
        return words[words.index("-m") + 1]
    exe = Path(words[0]).name if words else str(pid)
    if exe.startswith("python") and "-c" in words:  # multiprocessing's helpers: the encoder's forkserver
        return next((f"{m} (encoder)" for m in ("forkserver", "resource_tracker") if m in " ".join(words)), exe)
    return exe


def peak_rss(roots: dict[str, int]) -> dict[str, int]:
    """VmHWM (kB) of each root process and of every descendant, by name."""
    parents = {
        int(p.name): int(_status(int(p.name)).get("PPid", "0")) for p in Path("/proc").iterdir() if p.name.isdigit()
    }
    found: dict[str, int] = {}
    for label, root in roots.items():
        family = {root}
        while grown := {pid for pid, parent in parents.items() if parent in family} - family:
            family |= grown
        for pid in sorted(family):
            peak = _status(pid).get("VmHWM", "0 kB").split()[0]
            name = label if pid == root else _name(pid)
            found[name if name not in found else f"{name} ({pid})"] = int(peak)
    return found


def mib_s(size: int, seconds: float) -> float:
    return size / (1 << 20) / seconds


async def main(gib: float, runs: int, s3: bool) -> None:
    size = int(gib * (1 << 30))
    block = os.urandom(BLOCK)
    with tempfile.TemporaryDirectory(prefix="vidkiln-transfer-") as tmp:
        root = Path(tmp)
        async with AsyncExitStack() as stack:
            settings: dict[str, str] = {}
            roots: dict[str, int] = {}
            if s3:
                moto, settings = await stack.enter_async_context(moto_bucket())
                roots["moto (S3 fake, not vidkiln)"] = moto.pid
            running = await stack.enter_async_context(platform(root / "data", **settings))
            bare, bare_url = await start_bare(root / "bare")
            try:
                gateway_runs, bare_runs = [], []
                async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                    for run in range(runs):
                        bare_runs.append(await bare_round(http, bare_url, Body(size, os.urandom(64), block)))
                        body = Body(size, os.urandom(64), block)
                        gateway_runs.append(await gateway_round(http, running.url, running.key, body))
                        print(f"run {run + 1}: bare {bare_runs[-1]}, gateway {gateway_runs[-1]} (s)", flush=True)
                    with Probe(f"{running.url}/health") as probe:  # one more upload, untimed
                        await gateway_round(http, running.url, running.key, Body(size, os.urandom(64), block))
                rss = peak_rss({"bare aiohttp app": bare.pid, "vidkiln up": running.process.pid, **roots})
                rss["bench client"] = int(_status(os.getpid())["VmHWM"].split()[0])
            finally:
                bare.terminate()
                await bare.wait()

    store = "an S3 bucket (moto)" if s3 else "the local directory"
    print(f"\n{size / (1 << 30):.1f} GiB through multipart upload and download, {runs} alternating runs (medians)")
    print(f"  the gateway's blob store: {store}")
    ratios = []
    for index, label in ((0, "upload"), (1, "download")):
        b = statistics.median(mib_s(size, r[index]) for r in bare_runs)
        g = statistics.median(mib_s(size, r[index]) for r in gateway_runs)
        ratios.append(g / b)
        print(f"  {label:<8}  bare aiohttp {b:7.0f} MiB/s   gateway {g:7.0f} MiB/s   ratio {g / b:.2f}x")
    print(f"  worst ratio {min(ratios):.2f}x ({'no target for S3' if s3 else 'target >= 0.5x'})")
    lat = sorted(probe.ms)
    print(
        f"GET /health during gateway uploads ({len(lat)} requests): p50 {statistics.median(lat):.1f} ms, "
        f"p99 {lat[int(len(lat) * 0.99)]:.1f} ms, max {lat[-1]:.1f} ms"
    )
    print("peak RSS (VmHWM) of every process (target < 200 MB each):")
    for name, kb in sorted(rss.items(), key=lambda item: -item[1]):
        print(f"  {name:<32} {kb / 1024:7.1f} MiB{'   OVER' if kb * 1024 >= 200e6 else ''}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--s3", action="store_true", help="the platform's blob store on a moto S3 bucket")
    args = parser.parse_args()
    asyncio.run(main(args.gib, args.runs, args.s3))
