"""On-demand's one-off `webhook`: exactly one unsigned callback when the job ends, from the webhooks
service's durable deliveries; never listed among the account's subscriptions."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.e2e.helpers import follow
from tests.harness import Platform


@dataclass
class Callbacks:
    got: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    url: str = ""

    def of(self, job_id: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return [(h, b) for h, b in self.got if b["data"].get("jobId") == job_id]


@pytest.fixture
async def callbacks() -> AsyncIterator[Callbacks]:
    found = Callbacks()

    async def hook(request: web.Request) -> web.Response:
        found.got.append((dict(request.headers), json.loads(await request.read())))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/done", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    found.url = f"http://127.0.0.1:{server.port}/done"
    yield found
    await server.close()


async def encode(http: aiohttp.ClientSession, platform: Platform, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with http.post(
        f"{platform.base_url}/ondemand/encode", json=body, headers={"X-API-Key": platform.admin_key}
    ) as resp:
        return resp.status, await resp.json()


async def arrive(
    callbacks: Callbacks, job_id: str, timeout: float = 30.0
) -> list[tuple[dict[str, str], dict[str, Any]]]:
    deadline = time.monotonic() + timeout
    while not callbacks.of(job_id):
        assert time.monotonic() < deadline, "no callback arrived"
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # anything else would have come by now
    return callbacks.of(job_id)


async def test_one_unsigned_callback_when_the_job_ends(
    platform: Platform, source_server: str, callbacks: Callbacks
) -> None:
    async with aiohttp.ClientSession() as http:
        status, created = await encode(
            http, platform, {"sourceUrl": f"{source_server}/media/silent.mp4", "webhook": callbacks.url}
        )
        assert status == 200 and created["webhook"] == callbacks.url, created
        final, _ = await follow(http, platform.base_url, platform.admin_key, created["jobId"])
        assert final["status"] == "success", final
        [(headers, body)] = await arrive(callbacks, created["jobId"])
        assert body["event"] == "job.completed" and body["data"]["status"] == "success", body
        assert "X-Webhook-Signature" not in headers and "webhook-signature" not in headers
        assert headers["X-Webhook-Event"] == "job.completed" and headers["webhook-id"]

        status, long_job = await encode(
            http, platform, {"sourceUrl": f"{source_server}/long/long.mp4", "webhook": callbacks.url}
        )
        assert status == 200, long_job
        async with http.delete(
            f"{platform.base_url}/ondemand/{long_job['jobId']}", headers={"X-API-Key": platform.admin_key}
        ) as resp:
            assert resp.status == 200
        [(_, body)] = await arrive(callbacks, long_job["jobId"])
        assert body["event"] == "job.canceled", body

        async with http.get(f"{platform.base_url}/webhooks", headers={"X-API-Key": platform.admin_key}) as resp:
            assert (await resp.json()) == {"webhooks": []}  # the callbacks' subscriptions are not the account's

        status, plain = await encode(http, platform, {"sourceUrl": f"{source_server}/media/silent.mp4"})
        assert status == 200 and plain["webhook"] is None


async def test_callback_urls_follow_the_webhook_address_rules(platform: Platform, source_server: str) -> None:
    cases: list[tuple[Any, int, str]] = [
        ("http://10.1.2.3/hook", 400, "private_ip_blocked"),
        ("http://169.254.169.254/latest", 400, "private_ip_blocked"),
        ("ftp://example.com/x", 400, "invalid_url"),
        ("not a url", 400, "invalid_url"),
        (42, 400, "invalid_body"),
        ("", 400, "invalid_body"),
    ]
    async with aiohttp.ClientSession() as http:
        for webhook, expected, code in cases:
            status, answer = await encode(
                http, platform, {"sourceUrl": f"{source_server}/media/silent.mp4", "webhook": webhook}
            )
            assert (status, answer.get("code")) == (expected, code), (webhook, answer)
        async with http.get(f"{platform.base_url}/api/v1/jobs", headers={"X-API-Key": platform.admin_key}) as resp:
            assert (await resp.json())["data"]["items"] == []  # nothing was created
