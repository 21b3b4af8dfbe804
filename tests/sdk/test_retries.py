"""Retries against a live gateway: a real 429 is waited out for its Retry-After, and a create whose answer was
lost is sent again with the same Idempotency-Key, so the same job comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from tests.conftest import GENEROUS_LIMITS, start_platform
from tests.harness import NatsServer, Platform
from tests.sdk.proxy import LossyProxy
from vidkiln.client import AsyncClient, Client, RateLimitError, RetryEvent

# 30 a minute per key: a burst of 30, then one every 2 s (Retry-After: 2).
LOW_LIMITS: dict[str, Any] = GENEROUS_LIMITS | {"rate_limit_per_minute": 30}


@pytest.fixture
async def limited(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    platform = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False, gateway_settings=LOW_LIMITS)
    async with platform.stack:
        yield platform


async def _spend_budget(platform: Platform, key: str) -> None:
    """Requests until the gateway refuses one with 429."""
    async with httpx.AsyncClient(base_url=platform.base_url, headers={"X-API-Key": key}) as http:
        for _ in range(40):
            if (await http.get("/tokens/balance")).status_code == 429:
                return
    raise AssertionError("the rate limit never answered 429")


async def test_a_429_is_retried_after_its_retry_after_sync_and_async(limited: Platform) -> None:
    key = await limited.new_key(email="retry@example.com")
    await _spend_budget(limited, key)
    without = Client(limited.base_url, api_key=key, max_retries=0)
    with pytest.raises(RateLimitError) as refused:
        await asyncio.to_thread(without.encode.get_balance)
    without.close()
    assert (refused.value.status, refused.value.code) == (429, "rate_limit_exceeded")
    assert refused.value.retry_after is not None and 1 <= refused.value.retry_after <= 2

    retries: list[RetryEvent] = []
    with Client(limited.base_url, api_key=key, on_retry=retries.append) as client:
        started = time.monotonic()
        balance = await asyncio.to_thread(client.encode.get_balance)
        took = time.monotonic() - started
    assert balance.available > 0
    assert [(r.status, r.attempt) for r in retries][:1] == [(429, 1)]
    assert retries[0].delay >= 1 and took >= sum(r.delay for r in retries)  # it slept what the server asked

    await _spend_budget(limited, key)
    heard: list[RetryEvent] = []
    async with AsyncClient(limited.base_url, api_key=key, on_retry=heard.append) as aclient:
        started = time.monotonic()
        assert (await aclient.encode.get_balance()).available == balance.available
        assert heard[0].status == 429 and time.monotonic() - started >= heard[0].delay


async def test_a_create_whose_answer_was_lost_is_retried_with_its_key_and_gets_the_same_job(
    bare: Platform, source_server: str
) -> None:
    proxy = LossyProxy(int(bare.base_url.rsplit(":", 1)[1]), drops=1)
    await proxy.start()
    retries: list[RetryEvent] = []
    try:
        with Client(proxy.url, api_key=bare.admin_key, on_retry=retries.append) as client:
            job = await asyncio.to_thread(
                client.encode.on_demand_encode, source_url=f"{source_server}/media/silent.mp4", external_id="lost-once"
            )
    finally:
        await proxy.stop()
    assert len(retries) == 1 and retries[0].status is None and retries[0].error is not None
    creates = [r for r in proxy.requests if r.startswith(b"POST /ondemand/encode")]
    keys = {line for r in creates for line in r.split(b"\r\n") if line.lower().startswith(b"idempotency-key:")}
    assert len(creates) == 2 and len(keys) == 1 and retries[0].idempotency_key is not None
    assert retries[0].idempotency_key.encode() in next(iter(keys))
    with Client(bare.base_url, api_key=bare.admin_key) as direct:
        page = await asyncio.to_thread(direct.media.jobs.list, external_id="lost-once")
        status = await asyncio.to_thread(direct.encode.on_demand_status, job.job_id)
    assert [j.id for j in page.items] == [job.job_id]  # one job, the one the retry was answered with
    assert status.status == "queued" and status.external_id == "lost-once"
