"""What a URL source's server declares is checked at submit: too large, or not media, and no job is made.

Ingest's use case against a real source server first (it is where the setting applies), then the whole
platform through the gateway with the Encode API's codes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler
from opentelemetry.sdk.trace import TracerProvider

from protos.common.v1 import storage_pb2
from services.common.blobstore import LocalBlobStore
from services.common.http_source import SourceError, client_timeout
from services.common.netguard import AddressPolicy, guarded_session
from services.ingest import domain as ingest
from services.ingest.config import DEFAULT_MAX_SOURCE_BYTES, Settings
from tests.conftest import start_platform
from tests.harness import NatsServer, Platform

_GIB = 1024**3
_HUGE = 30 * _GIB  # over the default limit of 20 GiB
_CLIP = bytes(range(256)) * 8  # 2 KiB of "video"

Hits = list[tuple[str, str, str]]  # (method, path, Range header)


@pytest.fixture
async def sources() -> AsyncIterator[tuple[str, Hits]]:
    """A source server on 127.0.0.1 (allow-listed in tests); its base URL and every request it got."""
    hits: Hits = []

    async def huge(request: web.Request) -> web.StreamResponse:
        """Declares 30 GiB of video; sends at most one byte of it."""
        if request.headers.get("Range") == "bytes=0-0":
            return web.Response(
                status=206, body=b"\0", content_type="video/mp4", headers={"Content-Range": f"bytes 0-0/{_HUGE}"}
            )
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.content_length = _HUGE
        await response.prepare(request)
        await response.write_eof()
        return response

    def typed(body: bytes, content_type: str) -> web.RouteDef:
        async def answer(_request: web.Request) -> web.Response:
            return web.Response(body=body, headers={"Content-Type": content_type})

        return web.get(f"/{content_type.partition(';')[0].replace('/', '_')}", answer)

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        hits.append((request.method, request.path, request.headers.get("Range", "")))
        return await handler(request)

    app = web.Application(middlewares=[record])
    app.add_routes(
        [
            web.get("/huge.mp4", huge),
            web.get("/no-head/huge.mp4", huge, allow_head=False),
            typed(b"<html><body>Your video is on this page</body></html>", "text/html; charset=utf-8"),
            typed(b'{"url": "https://cdn.example.com/a.mp4"}', "application/json"),
            typed(_CLIP, "video/mp4"),
            typed(_CLIP, "application/octet-stream"),
        ]
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/"), hits
    await server.close()


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[ingest.Deps]:
    """Ingest's dependencies as the service builds them: a guarded session admitting 127.0.0.1."""
    policy = AddressPolicy.from_setting("127.0.0.1")
    async with guarded_session(policy, timeout=client_timeout(connect=2, read=5)) as http:
        yield ingest.Deps(http=http, blobs=LocalBlobStore(tmp_path / "blobs"), policy=policy)


async def _validate(deps: ingest.Deps, url: str) -> ingest.Inspection:
    return await ingest.validate_source(deps, source=storage_pb2.Source(url=url))


async def _refused(deps: ingest.Deps, url: str) -> SourceError:
    with pytest.raises(SourceError) as caught:
        await _validate(deps, url)
    return caught.value


def test_the_limit_is_a_setting_of_20_gib_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIDKILN_MAX_SOURCE_BYTES", raising=False)

    assert DEFAULT_MAX_SOURCE_BYTES == 20 * _GIB
    assert Settings().max_source_bytes == DEFAULT_MAX_SOURCE_BYTES
    assert ingest.Deps.__dataclass_fields__["max_source_bytes"].default == DEFAULT_MAX_SOURCE_BYTES


def test_the_limit_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDKILN_MAX_SOURCE_BYTES", str(5 * _GIB))

    assert Settings().max_source_bytes == 5 * _GIB


@pytest.mark.parametrize("path", ["/huge.mp4", "/no-head/huge.mp4"], ids=["content-length", "content-range"])
async def test_ingest_refuses_a_source_declared_over_the_limit(
    deps: ingest.Deps, sources: tuple[str, Hits], path: str
) -> None:
    base, hits = sources

    error = await _refused(deps, base + path)

    assert error.reason_name == "FILE_TOO_LARGE"
    assert error.message == f"The source is {_HUGE} bytes, larger than the limit of 20 GiB."
    assert all(method == "HEAD" or rng == "bytes=0-0" for method, _, rng in hits)  # no body was asked for


async def test_ingest_applies_the_configured_limit(deps: ingest.Deps, sources: tuple[str, Hits]) -> None:
    base, _ = sources
    small = ingest.Deps(http=deps.http, blobs=deps.blobs, policy=deps.policy, max_source_bytes=len(_CLIP) - 1)

    error = await _refused(small, f"{base}/video_mp4")

    assert error.reason_name == "FILE_TOO_LARGE"
    assert error.message == f"The source is {len(_CLIP)} bytes, larger than the limit of {len(_CLIP) - 1} bytes."
    assert (await _validate(deps, f"{base}/video_mp4")).size == len(_CLIP)


@pytest.mark.parametrize(
    ("path", "media_type"), [("/text_html", "text/html"), ("/application_json", "application/json")]
)
async def test_ingest_refuses_a_source_declared_as_a_document(
    deps: ingest.Deps, sources: tuple[str, Hits], path: str, media_type: str
) -> None:
    base, _ = sources

    error = await _refused(deps, base + path)

    assert error.reason_name == "CONTENT_TYPE_UNSUPPORTED"
    assert error.message == f"The source is of type '{media_type}', which is not a video or audio file."


@pytest.mark.parametrize("content_type", ["video/mp4", "application/octet-stream"])
async def test_ingest_accepts_media_within_the_limit(
    deps: ingest.Deps, sources: tuple[str, Hits], content_type: str
) -> None:
    base, _ = sources
    path = "/" + content_type.replace("/", "_")

    found = await _validate(deps, base + path)

    assert found == ingest.Inspection(path[1:], len(_CLIP), content_type)


@pytest.fixture
async def edge(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    """The platform without an encoder: nothing here gets as far as encoding."""
    started = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with started.stack:
        yield started


async def test_the_gateway_refuses_them_at_submit_and_makes_no_job(edge: Platform, sources: tuple[str, Hits]) -> None:
    base, hits = sources
    cases = [
        (f"{base}/huge.mp4", 400, "file_too_large", "20 GiB"),
        (f"{base}/no-head/huge.mp4", 400, "file_too_large", "20 GiB"),
        (f"{base}/text_html", 415, "unsupported_content_type", "'text/html'"),
        (f"{base}/application_json", 415, "unsupported_content_type", "'application/json'"),
    ]
    async with aiohttp.ClientSession() as http:
        for url, status, code, said in cases:
            async with http.post(
                f"{edge.base_url}/ondemand/encode", json={"sourceUrl": url}, headers={"X-API-Key": edge.admin_key}
            ) as resp:
                body = await resp.json()
            assert (resp.status, body["code"]) == (status, code), (url, body)
            assert said in body["message"], body
        async with http.get(f"{edge.base_url}/api/v1/jobs", headers={"X-API-Key": edge.admin_key}) as resp:
            listing = await resp.json()
    assert resp.status == 200, listing
    assert listing["data"]["items"] == []
    assert listing["data"]["pagination"]["total_items"] == 0
    assert all(method == "HEAD" or rng == "bytes=0-0" for method, _, rng in hits)  # no source body was read
