"""Customer URLs cannot reach the platform's own network: refused at submit, with the documented codes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.harness import Platform


@pytest.fixture
async def internal_server() -> AsyncIterator[tuple[str, list[str]]]:
    """A server on 127.0.0.2: loopback, and not in the tests' allow-list (which admits 127.0.0.1 only)."""
    hits: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=b"secret", content_type="video/mp4")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    server = TestServer(app, host="127.0.0.2")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/"), hits
    await server.close()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://10.0.0.1/video.mp4", "private_ip_blocked"),
        ("http://169.254.169.254/latest/meta-data/", "private_ip_blocked"),
        ("http://[::1]/video.mp4", "private_ip_blocked"),
        ("http://2130706434/video.mp4", "private_ip_blocked"),  # 127.0.0.2 in decimal
        ("http://nonexistent.invalid/video.mp4", "host_not_resolvable"),
    ],
)
async def test_non_public_sources_are_refused_at_submit(platform: Platform, url: str, code: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{platform.base_url}/ondemand/encode", json={"sourceUrl": url}, headers={"X-API-Key": platform.admin_key}
        ) as resp:
            body = await resp.json()
    assert resp.status == 400, body
    assert body["code"] == code, body


async def test_a_redirect_into_the_private_network_is_refused(
    platform: Platform, internal_server: tuple[str, list[str]], source_server: str
) -> None:
    internal, hits = internal_server
    async with aiohttp.ClientSession() as http:
        for url in (f"{internal}/video.mp4", f"{source_server}/redirect?to={internal}/video.mp4"):
            async with http.post(
                f"{platform.base_url}/ondemand/encode",
                json={"sourceUrl": url},
                headers={"X-API-Key": platform.admin_key},
            ) as resp:
                body = await resp.json()
            assert resp.status == 400 and body["code"] == "private_ip_blocked", (url, body)
    assert hits == []  # nothing ever reached the internal server
