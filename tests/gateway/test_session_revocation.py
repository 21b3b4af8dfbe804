"""A logout (or a stolen refresh chain) stops its access tokens at once: at the gateway and at every service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider

from protos.auth.v1 import auth_pb2, auth_pb2_grpc
from protos.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from services.common.identity import bearer_metadata
from tests.conftest import GENEROUS_LIMITS, start_platform
from tests.harness import NatsServer, Platform

PASSWORD = "correct horse battery staple"
WITHIN = 1.0  # seconds: the broadcast's reach; every cache here holds a credential far longer


@pytest.fixture
async def slow_cache(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    """The gateway caches credentials for a minute: only the broadcast can make it stop sooner."""
    started = await start_platform(
        tmp_path,
        nats,
        None,
        tracer_provider,
        encoder=False,
        gateway_settings=GENEROUS_LIMITS | {"auth_cache_seconds": 60},
    )
    async with started.stack:
        await started.password_account(email="dev@example.com", password=PASSWORD)
        yield started


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json()


class Uses:
    """Every way to use an access token: the gateway's routes, and the services directly over gRPC."""

    def __init__(self, http: aiohttp.ClientSession, platform: Platform, channels: dict[str, grpc.aio.Channel]) -> None:
        self.http, self.base = http, platform.base_url
        self.jobs = jobs_pb2_grpc.JobServiceStub(channels["jobs"])
        self.auth = auth_pb2_grpc.AuthServiceStub(channels["auth"])

    async def gateway(self, access: str) -> list[int]:
        bearer = {"Authorization": f"Bearer {access}"}
        statuses = []
        async with self.http.get(f"{self.base}/api/v1/jobs", headers=bearer) as resp:
            statuses.append(resp.status)
        async with self.http.post(f"{self.base}/api-keys", json={"name": "after"}, headers=bearer) as resp:
            statuses.append(resp.status)
        return statuses

    async def grpc(self, access: str) -> list[grpc.StatusCode]:
        metadata = bearer_metadata(access)
        codes = []
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: self.jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=metadata, timeout=5),
            lambda: self.auth.CreateApiKey(auth_pb2.CreateApiKeyRequest(name="x"), metadata=metadata, timeout=5),
        ]
        for call in calls:
            try:
                await call()
                codes.append(grpc.StatusCode.OK)
            except grpc.aio.AioRpcError as exc:
                codes.append(exc.code())
        return codes

    async def accepted(self, access: str) -> None:
        assert await self.gateway(access) == [200, 200]
        assert await self.grpc(access) == [grpc.StatusCode.OK, grpc.StatusCode.OK]

    async def refused(self, access: str) -> None:
        """Refused everywhere within WITHIN seconds (polled: the broadcast is asynchronous)."""
        since = time.monotonic()
        while (gateway := await self.gateway(access)) != [401, 401]:
            assert time.monotonic() - since < WITHIN, f"the gateway still accepts a revoked session: {gateway}"
            await asyncio.sleep(0.02)
        unauthenticated = grpc.StatusCode.UNAUTHENTICATED
        while (codes := await self.grpc(access)) != [unauthenticated, unauthenticated]:
            assert time.monotonic() - since < WITHIN, f"a service still accepts a revoked session: {codes}"
            await asyncio.sleep(0.02)


@pytest.fixture
async def uses(slow_cache: Platform) -> AsyncIterator[Uses]:
    async with (
        aiohttp.ClientSession() as http,
        grpc.aio.insecure_channel(slow_cache.services["jobs"].addr) as jobs,
        grpc.aio.insecure_channel(slow_cache.services["auth"].addr) as auth,
    ):
        yield Uses(http, slow_cache, {"jobs": jobs, "auth": auth})


async def _login(uses: Uses) -> dict[str, Any]:
    login = {"email": "dev@example.com", "password": PASSWORD}
    status, tokens = await _post(uses.http, f"{uses.base}/auth/login", login)
    assert status == 200, tokens
    return tokens


async def test_logout_stops_the_access_token_everywhere(uses: Uses) -> None:
    tokens = await _login(uses)
    other = await _login(uses)  # another login of the same account
    await uses.accepted(tokens["accessToken"])  # now cached by the gateway, jobs and auth

    status, _ = await _post(uses.http, f"{uses.base}/auth/logout", {"refreshToken": tokens["refreshToken"]})
    assert status == 200

    await uses.refused(tokens["accessToken"])
    await uses.accepted(other["accessToken"])


async def test_reusing_a_refresh_token_stops_every_access_token_of_the_chain(uses: Uses) -> None:
    first = await _login(uses)
    status, second = await _post(uses.http, f"{uses.base}/auth/refresh", {"refreshToken": first["refreshToken"]})
    assert status == 200, second
    for tokens in (first, second):
        await uses.accepted(tokens["accessToken"])

    status, _ = await _post(uses.http, f"{uses.base}/auth/refresh", {"refreshToken": first["refreshToken"]})
    assert status == 401  # a second use: someone else holds the chain

    for tokens in (first, second):
        await uses.refused(tokens["accessToken"])
    status, _ = await _post(uses.http, f"{uses.base}/auth/refresh", {"refreshToken": second["refreshToken"]})
    assert status == 401
