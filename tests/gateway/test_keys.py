"""API keys over REST: login sessions manage them, revocation reaches every cache within a second."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider

from protos.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from services.common.clock import utcnow
from services.common.identity import bearer_metadata
from tests.conftest import GENEROUS_LIMITS, start_platform
from tests.harness import NatsServer, Platform

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def slow_cache(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    """Keys stay cached for a minute: only the revocation broadcast can make them stop sooner."""
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


async def login(http: aiohttp.ClientSession, platform: Platform, email: str = "dev@example.com") -> dict[str, Any]:
    async with http.post(f"{platform.base_url}/auth/login", json={"email": email, "password": PASSWORD}) as resp:
        body: dict[str, Any] = await resp.json()
        assert resp.status == 200, body
        return body


async def test_sessions_manage_keys_and_api_keys_cannot(slow_cache: Platform) -> None:
    platform = slow_cache
    async with aiohttp.ClientSession() as http:
        tokens = await login(http, platform)
        assert tokens["tokenType"] == "Bearer" and 0 < tokens["expiresIn"] <= 900
        session = {"Authorization": f"Bearer {tokens['accessToken']}"}
        body = {"name": "ci", "scopes": ["jobs:read"], "expiresInDays": 30}
        async with http.post(f"{platform.base_url}/api-keys", json=body, headers=session) as resp:
            created = await resp.json()
            assert resp.status == 200
        assert created["key"].startswith("cvr_") and created["prefix"] == created["key"][:12]
        assert created["scopes"] == ["jobs:read"] and created["expiresAt"] and created["lastUsedAt"] is None
        async with http.get(f"{platform.base_url}/api-keys/{created['id']}", headers=session) as resp:
            fetched = await resp.json()
        assert "key" not in fetched and fetched["name"] == "ci"
        async with http.get(f"{platform.base_url}/api/v1/jobs", headers={"X-API-Key": created["key"]}) as resp:
            assert resp.status == 200
        async with http.get(f"{platform.base_url}/api-keys", headers=session) as resp:
            [listed] = (await resp.json())["keys"]
        assert listed["id"] == created["id"] and listed["lastUsedAt"] is not None and "key" not in listed

        # The contract: an API key cannot manage API keys, whatever its scopes.
        for key in (created["key"], platform.admin_key):
            async with http.get(f"{platform.base_url}/api-keys", headers={"X-API-Key": key}) as resp:
                answer = await resp.json()
                assert (resp.status, answer["code"]) == (403, "forbidden"), answer
        async with http.post(
            f"{platform.base_url}/api-keys", json={"name": "x", "scopes": ["jobs:all"]}, headers=session
        ) as resp:
            assert (resp.status, (await resp.json())["code"]) == (400, "invalid_body")


async def test_a_revoked_key_stops_working_within_a_second(slow_cache: Platform) -> None:
    platform = slow_cache
    async with aiohttp.ClientSession() as http:
        session = {"Authorization": f"Bearer {(await login(http, platform))['accessToken']}"}
        async with http.post(f"{platform.base_url}/api-keys", json={"name": "soon gone"}, headers=session) as resp:
            created = await resp.json()
        key = {"X-API-Key": created["key"]}
        url = f"{platform.base_url}/api/v1/jobs"
        async with http.get(url, headers=key) as resp:
            assert resp.status == 200  # now cached by the gateway, for a minute
        async with grpc.aio.insecure_channel(platform.services["jobs"].addr) as channel:
            jobs = jobs_pb2_grpc.JobServiceStub(channel)
            await jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=bearer_metadata(created["key"]), timeout=5)
            async with http.delete(f"{platform.base_url}/api-keys/{created['id']}", headers=session) as resp:
                assert resp.status == 204
            revoked_at = time.monotonic()
            while True:
                async with http.get(url, headers=key) as resp:
                    if resp.status == 401:
                        assert (await resp.json())["error"]["code"] == "AUTH_INVALID"
                        break
                assert time.monotonic() - revoked_at < 1.0, "the gateway still accepts a revoked key"
                await asyncio.sleep(0.02)
            # The jobs service had it cached too (a direct gRPC caller): dropped as well.
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=bearer_metadata(created["key"]), timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        async with http.get(f"{platform.base_url}/api-keys/{created['id']}", headers=session) as resp:
            assert resp.status == 404


async def test_expired_keys_and_refresh_tokens(slow_cache: Platform) -> None:
    platform = slow_cache
    async with aiohttp.ClientSession() as http:
        tokens = await login(http, platform)
        session = {"Authorization": f"Bearer {tokens['accessToken']}"}
        async with http.post(
            f"{platform.base_url}/api-keys", json={"name": "a day", "expiresInDays": 1}, headers=session
        ) as resp:
            short = (await resp.json())["key"]
        with mock.patch("services.auth.domain.keys.utcnow", return_value=utcnow() + timedelta(days=2)):
            async with http.get(
                f"{platform.base_url}/ondemand/status/{uuid.uuid4()}", headers={"X-API-Key": short}
            ) as resp:
                assert (resp.status, (await resp.json())["code"]) == (401, "api_key_expired")

        async with http.post(
            f"{platform.base_url}/auth/refresh", json={"refreshToken": tokens["refreshToken"]}
        ) as resp:
            renewed = await resp.json()
            assert resp.status == 200 and renewed["refreshToken"] != tokens["refreshToken"]
        # Reusing the spent token revokes the chain: the renewed token stops working too.
        async with http.post(
            f"{platform.base_url}/auth/refresh", json={"refreshToken": tokens["refreshToken"]}
        ) as resp:
            assert (resp.status, (await resp.json())["code"]) == (401, "invalid_api_key")
        async with http.post(
            f"{platform.base_url}/auth/refresh", json={"refreshToken": renewed["refreshToken"]}
        ) as resp:
            assert resp.status == 401

        again = await login(http, platform)
        async with http.post(f"{platform.base_url}/auth/logout", json={"refreshToken": again["refreshToken"]}) as resp:
            assert await resp.json() == {"ok": True}
        async with http.post(f"{platform.base_url}/auth/refresh", json={"refreshToken": again["refreshToken"]}) as resp:
            assert resp.status == 401


async def test_login_refusals_and_the_sdk_quirk(slow_cache: Platform) -> None:
    platform = slow_cache
    async with aiohttp.ClientSession() as http:
        for body in (
            {"email": "dev@example.com", "password": "wrong password"},
            {"email": "no@example.com", "password": PASSWORD},
        ):
            async with http.post(f"{platform.base_url}/auth/login", json=body) as resp:
                answer = await resp.json()
                assert (resp.status, answer["code"]) == (401, "user_not_found")
                assert answer["message"] == "The email or password is not right."
        async with http.post(
            f"{platform.base_url}/auth/login", json={"email": "dev@example.com", "password": "short"}
        ) as resp:
            assert (resp.status, (await resp.json())["code"]) == (400, "invalid_body")
        # The SDK's login() sends an empty Authorization header (and X-API-Key when configured).
        quirk = {"Authorization": "", "X-API-Key": "cvr_whatever"}
        body = {"email": "dev@example.com", "password": PASSWORD}
        async with http.post(f"{platform.base_url}/auth/login", json=body, headers=quirk) as resp:
            assert resp.status == 200


async def test_left_out_scopes_mean_the_default_and_an_empty_list_means_none(slow_cache: Platform) -> None:
    platform = slow_cache
    async with aiohttp.ClientSession() as http:
        session = {"Authorization": f"Bearer {(await login(http, platform))['accessToken']}"}
        async with http.post(f"{platform.base_url}/api-keys", json={"name": "all"}, headers=session) as resp:
            everything = await resp.json()
        async with http.post(
            f"{platform.base_url}/api-keys", json={"name": "none", "scopes": []}, headers=session
        ) as resp:
            nothing = await resp.json()
        assert len(everything["scopes"]) == 6 and "tokens:write" not in everything["scopes"]  # asked for only
        assert nothing["scopes"] == []
        async with http.get(f"{platform.base_url}/api/v1/jobs", headers={"X-API-Key": nothing["key"]}) as resp:
            body = await resp.json()
            assert resp.status == 403 and body["error"]["details"] == {"requiredScope": "jobs:read"}
