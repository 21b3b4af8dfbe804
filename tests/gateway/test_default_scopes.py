"""POST /api-keys without scopes: a key that cannot reserve, release or deduct credits unless asked to."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from opentelemetry.sdk.trace import TracerProvider

from tests.conftest import start_platform
from tests.harness import NatsServer, Platform

PASSWORD = "correct horse battery staple"
CREDIT_ROUTES = ("/tokens/reserve", "/tokens/release", "/tokens/deduct")


@pytest.fixture
async def keys_only(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    started = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with started.stack:
        await started.password_account(email="dev@example.com", password=PASSWORD)
        yield started


async def _json(
    http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, url, headers=headers, **kwargs) as resp:
        return resp.status, await resp.json()


async def test_default_keys_lack_tokens_write_and_asking_for_it_works(keys_only: Platform) -> None:
    base = keys_only.base_url
    async with aiohttp.ClientSession() as http:
        status, tokens = await _json(
            http, "POST", f"{base}/auth/login", {}, json={"email": "dev@example.com", "password": PASSWORD}
        )
        assert status == 200, tokens
        session = {"Authorization": f"Bearer {tokens['accessToken']}"}
        _, default = await _json(http, "POST", f"{base}/api-keys", session, json={"name": "default"})
        _, billing = await _json(
            http, "POST", f"{base}/api-keys", session, json={"name": "billing", "scopes": ["tokens:write"]}
        )
        assert "tokens:write" not in default["scopes"] and "jobs:create" in default["scopes"]
        assert billing["scopes"] == ["tokens:write"]

        body = {"jobId": str(uuid.uuid4()), "amount": 1}
        for route in CREDIT_ROUTES:
            status, refused = await _json(http, "POST", f"{base}{route}", {"X-API-Key": default["key"]}, json=body)
            assert (status, refused["code"]) == (403, "missing_required_scope")
            assert refused["requiredScope"] == "tokens:write"
            # Past the scope check (an unknown job is not found) for a key that asked, and for the session.
            for allowed in ({"X-API-Key": billing["key"]}, session):
                status, answer = await _json(http, "POST", f"{base}{route}", allowed, json=body)
                assert (status, answer["code"]) == (404, "not_found"), (route, answer)
