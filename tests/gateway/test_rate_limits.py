"""Rate limits, enforced together by two gateways that share one NATS, with headers on every answer."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy
from opentelemetry.sdk.trace import TracerProvider

from gateway.__main__ import run as run_gateway
from gateway.config import Settings as GatewaySettings
from tests.conftest import start_platform
from tests.harness import NatsServer, Platform

LIMITS: dict[str, Any] = {
    "rate_limit_per_minute": 6,
    "rate_limit_encode_per_minute": 2,
    "rate_limit_account_per_minute": 10,
    "rate_limit_encode_account_per_minute": 3,
    "media_rate_limit_per_hour": 5,
    "login_attempts_per_minute": 3,
}


@pytest.fixture
async def gateways(
    tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider
) -> AsyncIterator[tuple[Platform, list[str]]]:
    """One platform, two gateway replicas."""
    platform = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False, gateway_settings=LIMITS)
    async with platform.stack:
        second = await platform.add("gateway-2", run_gateway, GatewaySettings, http_port=0, **LIMITS)
        yield platform, [platform.base_url, f"http://127.0.0.1:{second.port}"]


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, dict[str, Any], CIMultiDictProxy[str]]:
    async with http.request(method, url, **kwargs) as resp:
        return resp.status, await resp.json(), resp.headers


async def test_the_encode_api_budget_is_shared_by_every_gateway(gateways: tuple[Platform, list[str]]) -> None:
    platform, urls = gateways
    key = {"X-API-Key": await platform.new_key(email="busy@example.com")}
    async with aiohttp.ClientSession() as http:
        for i in range(6):  # alternate between the replicas: one budget of 6
            status, body, headers = await call(
                http, "GET", f"{urls[i % 2]}/ondemand/status/{uuid.uuid4()}", headers=key
            )
            assert (status, body["code"]) == (404, "not_found")  # errors are counted and carry the headers too
            assert headers["X-RateLimit-Limit"] == "6"
            assert headers["X-RateLimit-Remaining"] == str(5 - i)
            assert int(headers["X-RateLimit-Reset"]) >= int(time.time())
        status, body, headers = await call(http, "GET", f"{urls[0]}/ondemand/status/{uuid.uuid4()}", headers=key)
        assert (status, body["code"]) == (429, "rate_limit_exceeded")
        assert body["message"].startswith("Rate limit exceeded: 6 requests per minute")
        assert headers["X-RateLimit-Remaining"] == "0" and 1 <= int(headers["Retry-After"]) <= 10
        # Another key has its own budget.
        other = {"X-API-Key": await platform.new_key(email="calm@example.com")}
        status, _, headers = await call(http, "GET", f"{urls[1]}/ondemand/status/{uuid.uuid4()}", headers=other)
        assert status == 404 and headers["X-RateLimit-Remaining"] == "5"


async def test_more_keys_do_not_multiply_an_accounts_budget(gateways: tuple[Platform, list[str]]) -> None:
    """Each key has 6 a minute, the account 10 over all of them (and 3 creates over all of them)."""
    platform, urls = gateways
    email = "many-keys@example.com"
    keys = [{"X-API-Key": await platform.new_key(email=email)} for _ in range(3)]
    async with aiohttp.ClientSession() as http:
        answered = []
        for i in range(12):
            status, _, _ = await call(http, "GET", f"{urls[i % 2]}/ondemand/status/{uuid.uuid4()}", headers=keys[i % 3])
            answered.append(status)
        assert answered == [404] * 10 + [429] * 2  # no key reached its own 6
        status, body, headers = await call(http, "GET", f"{urls[0]}/ondemand/status/{uuid.uuid4()}", headers=keys[2])
        assert (status, body["code"]) == (429, "rate_limit_exceeded") and headers["X-RateLimit-Limit"] == "10"
        assert body["message"].startswith("Rate limit exceeded: 10 requests per minute")
        # Another account is untouched.
        other = {"X-API-Key": await platform.new_key(email="else@example.com")}
        status, _, _ = await call(http, "GET", f"{urls[1]}/ondemand/status/{uuid.uuid4()}", headers=other)
        assert status == 404


async def test_on_demand_encode_has_its_own_tighter_limit(gateways: tuple[Platform, list[str]]) -> None:
    platform, urls = gateways
    key = {"X-API-Key": await platform.new_key(email="encoder@example.com")}
    body = {"sourceUrl": "ftp://example.com/a.mp4"}  # refused at submit, but counted first
    async with aiohttp.ClientSession() as http:
        for i in range(2):
            status, answer, headers = await call(http, "POST", f"{urls[i]}/ondemand/encode", json=body, headers=key)
            assert (status, answer["code"]) == (400, "invalid_url")
            assert headers["X-RateLimit-Limit"] == "2" and headers["X-RateLimit-Remaining"] == str(1 - i)
        status, answer, _ = await call(http, "POST", f"{urls[0]}/ondemand/encode", json=body, headers=key)
        assert (status, answer["code"]) == (429, "rate_limit_exceeded")
        # The refused create did not spend the general budget: 6 - 2 = 4 remain.
        status, _, headers = await call(http, "GET", f"{urls[1]}/ondemand/status/{uuid.uuid4()}", headers=key)
        assert status == 404 and headers["X-RateLimit-Remaining"] == "3" and headers["X-RateLimit-Limit"] == "6"


async def test_the_media_api_counts_per_user_per_hour(gateways: tuple[Platform, list[str]]) -> None:
    platform, urls = gateways
    email = "media@example.com"
    keys = [await platform.new_key(email=email) for _ in range(2)]  # two keys, one user, one budget
    async with aiohttp.ClientSession() as http:
        for i in range(5):
            status, _, headers = await call(
                http, "GET", f"{urls[i % 2]}/api/v1/jobs", headers={"Authorization": f"Bearer {keys[i % 2]}"}
            )
            assert status == 200 and headers["X-RateLimit-Limit"] == "5"
        status, body, headers = await call(http, "GET", f"{urls[0]}/api/v1/jobs", headers={"X-API-Key": keys[0]})
        assert status == 429 and body["success"] is False
        assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED" and body["error"]["details"]["limit"] == "5"
        assert int(headers["Retry-After"]) > 60  # an hourly budget refills slowly


async def test_logins_are_limited_per_client_address(gateways: tuple[Platform, list[str]]) -> None:
    _, urls = gateways
    wrong = {"email": "nobody@example.com", "password": "not the password"}
    async with aiohttp.ClientSession() as http:
        for i in range(3):
            status, body, headers = await call(http, "POST", f"{urls[i % 2]}/auth/login", json=wrong)
            assert (status, body["code"]) == (401, "user_not_found") and headers["X-RateLimit-Limit"] == "3"
        status, body, _ = await call(http, "POST", f"{urls[1]}/auth/login", json=wrong)
        assert (status, body["code"]) == (429, "rate_limit_exceeded")


async def test_public_routes_are_not_counted(gateways: tuple[Platform, list[str]]) -> None:
    _, urls = gateways
    async with aiohttp.ClientSession() as http:
        for _ in range(10):
            async with http.get(f"{urls[0]}/health") as resp:
                assert resp.status == 200 and "X-RateLimit-Limit" not in resp.headers
