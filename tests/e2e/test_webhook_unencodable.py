"""An event the webhooks service cannot encode is a recorded, failed delivery: never lost, never logged."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import nats
import pytest
from opentelemetry.sdk.trace import TracerProvider

from protos.jobs.v1 import events_pb2, jobs_pb2
from services.common import subjects
from tests.conftest import start_platform
from tests.e2e.test_webhooks import call, eventually
from tests.harness import NatsServer, Platform
from tests.webhooks.receiver import Receiver

SECRET_TEXT = "customer-private-value"


@pytest.fixture
async def platform(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    started = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with started.stack:
        yield started


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


def _job(account_id: str, metadata_json: str) -> jobs_pb2.Job:
    return jobs_pb2.Job(
        id=str(uuid.uuid4()), account_id=account_id, status=jobs_pb2.JOB_STATUS_QUEUED, metadata_json=metadata_json
    )


async def test_an_unencodable_event_is_a_failed_delivery_and_later_events_still_go(
    platform: Platform, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """A job event whose metadata holds a lone surrogate (written by a release that accepted it)."""
    caplog.set_level(logging.INFO)  # (DEBUG is aiosqlite echoing SQL parameters)
    async with aiohttp.ClientSession() as http:
        status, hook = await call(
            http,
            "POST",
            f"{platform.base_url}/webhooks",
            platform.admin_key,
            {"url": receiver.url, "events": ["job.queued"]},
        )
        assert status == 200, hook
        status, me = await call(http, "GET", f"{platform.base_url}/api/v1/auth/me", platform.admin_key)
        assert status == 200, me
        account_id = me["id"]
        bad = _job(account_id, '{"\\ud800": "' + SECRET_TEXT + '"}')
        good = _job(account_id, '{"fine": true}')
        nc = await nats.connect(platform.nats.url)
        try:
            js = nc.jetstream()
            for job in (bad, good):
                changed = events_pb2.JobStateChanged(event_id=f"{job.id}:queued", job=job)
                await js.publish(subjects.JOB_STATE_CHANGED, changed.SerializeToString())
        finally:
            await nc.close()

        await eventually(lambda: len(receiver.received) >= 1, what="the good event delivered")
        deliveries_url = f"{platform.base_url}/webhooks/{hook['id']}/deliveries"
        failed: list[dict[str, object]] = []

        async def look() -> None:
            nonlocal failed
            _, answer = await call(http, "GET", deliveries_url, platform.admin_key)
            failed = [d for d in answer["deliveries"] if d["jobId"] == bad.id]

        for _ in range(100):
            await look()
            if failed:
                break
        assert len(failed) == 1 and failed[0]["status"] == "failed", failed
        assert "could not be written" in str(failed[0]["error"])
    assert [r.json["data"]["jobId"] for r in receiver.received] == [good.id]
    assert SECRET_TEXT not in caplog.text
