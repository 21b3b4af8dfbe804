"""Webhook delivery throughput: job events in, signed deliveries out, every attempt recorded.

The webhooks service's own parts, in this process: events are taken in by the same use case the
`webhooks-intake` consumer calls (the event logged, one delivery per subscription, one transaction),
while the dispatcher posts them, signed in three schemes, to local receivers (another process) and
records each attempt in the database (SQLite, as the embedded default). Baseline: a bare aiohttp
client posting the same bodies to the same receivers at the same concurrency, with no database.

    python -m bench.webhooks [--events 1000] [--subscriptions 4] [--runs 3]

Target: >= 1,000 deliveries/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from opentelemetry.trace import NoOpTracer
from sqlmodel import func, select

from bench._platform import free_port
from protos.jobs.v1 import events_pb2, jobs_pb2
from services.common.db import open_database
from services.common.identity import Principal
from services.common.netguard import AddressPolicy, guarded_session
from services.common.secretbox import SecretBox
from services.webhooks import domain
from services.webhooks.dispatcher import Dispatcher
from services.webhooks.models import Delivery, WebhooksTable

PER_SUBSCRIPTION = 8


def _events(count: int, account: uuid.UUID) -> list[events_pb2.JobStateChanged]:
    out = []
    for _ in range(count):
        job = jobs_pb2.Job(id=str(uuid.uuid4()), account_id=str(account), status=jobs_pb2.JOB_STATUS_QUEUED)
        job.updated_at.GetCurrentTime()
        out.append(events_pb2.JobStateChanged(job=job, event_id=f"{job.id}:queued"))
    return out


async def _delivered(deps: domain.Deps) -> int:
    async with deps.sessions() as session:
        found = await session.exec(select(func.count()).select_from(Delivery).where(Delivery.state == "success"))
        return int(found.one())


async def vidkiln_run(root: Path, urls: list[str], events: int) -> float:
    """Deliveries per second from the first event taken in to the last attempt recorded."""
    policy = AddressPolicy.from_setting("127.0.0.1")
    async with (
        open_database(f"sqlite+aiosqlite:///{root / f'{uuid.uuid4().hex}.db'}", WebhooksTable.metadata) as sessions,
        guarded_session(policy, auto_decompress=False) as http,
    ):
        base = domain.Deps(sessions=sessions, box=SecretBox(os.urandom(32)), addresses=policy)
        account = uuid.uuid4()
        principal = Principal(account_id=account, scopes=frozenset({"webhooks:manage"}))
        for url in urls:
            await domain.create_webhook(
                base, principal=principal, url=url, events=["job.queued"], secret="", dialect="encode"
            )
        dispatcher = Dispatcher(base, http, NoOpTracer(), per_subscription=PER_SUBSCRIPTION)
        deps = domain.Deps(sessions=sessions, box=base.box, addresses=policy, wake=dispatcher.wake)
        stop = asyncio.Event()
        running = asyncio.create_task(dispatcher.run(stop))
        batch = _events(events, account)
        expected = events * len(urls)
        started = time.perf_counter()
        for at in range(0, len(batch), 64):  # as the intake consumer takes them: fetches of up to 64
            await domain.record_job_events(deps, batch[at : at + 64])
        while await _delivered(deps) < expected:
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        stop.set()
        await running
        return expected / elapsed


async def bare_run(urls: list[str], events: int) -> float:
    """The same number of POSTs of a similar body, at the same concurrency, straight from a client."""
    body = b'{"event":"job.queued","timestamp":"2026-01-01T00:00:00.000Z","data":{"jobId":"x"}}' * 3
    sem = asyncio.Semaphore(PER_SUBSCRIPTION * len(urls))
    async with aiohttp.ClientSession(auto_decompress=False) as http:

        async def post(url: str) -> None:
            async with sem, http.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
                await resp.read()
                assert resp.status == 200

        started = time.perf_counter()
        await asyncio.gather(*(post(url) for _ in range(events) for url in urls))
        return events * len(urls) / (time.perf_counter() - started)


async def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("the receiver did not start")


async def main(events: int, subscriptions: int, runs: int) -> None:
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "bench._receiver", str(port)])
    try:
        await wait_port(port)
        urls = [f"http://127.0.0.1:{port}/hook/{i}" for i in range(subscriptions)]
        ours, bare = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(runs):  # alternating, so drift hits both alike
                bare.append(await bare_run(urls, events))
                ours.append(await vidkiln_run(Path(tmp), urls, events))
        o, b = statistics.median(ours), statistics.median(bare)
        total = events * subscriptions
        print(f"{events} job events x {subscriptions} subscriptions = {total} deliveries per run, {runs} runs")
        print(f"bare aiohttp client     {b:8.0f} posts/s")
        print(f"vidkiln webhooks        {o:8.0f} deliveries/s (intake + signing + delivery + recording)")
        verdict = "met" if o >= 1000 else "MISSED"
        print(f"ratio                   {o / b:8.2f}x   target: >= 1,000 deliveries/s -> {verdict}")
    finally:
        receiver.terminate()
        receiver.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--subscriptions", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.subscriptions, args.runs))
