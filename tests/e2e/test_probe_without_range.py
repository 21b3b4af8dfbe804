"""Ingest probes a source whose server ignores Range by reading its body from the start, within limits.

Ingest's use case against `python -m http.server`'s handler (and one slow aiohttp server): what the head
of each container tells, the whole-file fallback, and the byte and time limits with their messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from protos.common.v1 import storage_pb2
from services.common.blobstore import LocalBlobStore
from services.common.http_source import client_timeout
from services.common.netguard import AddressPolicy, guarded_session
from services.ingest import domain as ingest
from tests.e2e.no_range import populate, serving


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, clips: dict[str, Path]) -> dict[str, Path]:
    return populate(tmp_path_factory.mktemp("no-range"), clips["hd"])


@pytest.fixture
def base(files: dict[str, Path]) -> Iterator[str]:
    with serving(files["broken.mp4"].parent) as url:
        yield url


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[ingest.Deps]:
    """Ingest's dependencies as the service builds them: a guarded session admitting 127.0.0.1."""
    policy = AddressPolicy.from_setting("127.0.0.1")
    async with guarded_session(policy, timeout=client_timeout(connect=2, read=5)) as http:
        yield ingest.Deps(http=http, blobs=LocalBlobStore(tmp_path / "blobs"), policy=policy)


async def _probe(deps: ingest.Deps, url: str) -> ingest.Inspection:
    return await ingest.validate_source(deps, source=storage_pb2.Source(url=url), probe=True)


def test_the_limits_default_to_a_sane_size_and_time() -> None:
    assert ingest.Deps.__dataclass_fields__["unranged_probe_bytes"].default == 256 * 1024**2
    assert ingest.Deps.__dataclass_fields__["unranged_probe_seconds"].default == 6.0  # under the 10 s RPC deadline


@pytest.mark.parametrize("name", ["moov-at-end.mp4", "faststart.mp4", "clip.mkv", "clip.webm", "clip.ts"])
async def test_each_container_is_probed_as_with_range(
    deps: ingest.Deps, base: str, files: dict[str, Path], name: str
) -> None:
    found = await _probe(deps, f"{base}/{name}")

    assert found.probe_error == "" and found.probe is not None
    assert abs(found.probe.duration_sec - 2.0) < 0.1 and found.probe.has_video
    assert found.probe.size_bytes == files[name].stat().st_size


async def test_an_mp4_indexed_at_its_start_needs_only_its_head(
    deps: ingest.Deps, base: str, files: dict[str, Path]
) -> None:
    small = replace(deps, unranged_probe_bytes=files["faststart.mp4"].stat().st_size // 4)

    found = await _probe(small, f"{base}/faststart.mp4")

    assert found.probe is not None and abs(found.probe.duration_sec - 2.0) < 0.1, found.probe_error


@pytest.mark.parametrize("name", ["moov-at-end.mp4", "clip.ts"])
async def test_a_source_that_must_be_read_whole_is_refused_over_the_byte_limit(
    deps: ingest.Deps, base: str, files: dict[str, Path], name: str
) -> None:
    limit = files[name].stat().st_size // 2
    small = replace(deps, unranged_probe_bytes=limit)

    found = await _probe(small, f"{base}/{name}")

    assert found.probe is None
    assert "does not answer ranged requests" in found.probe_error and f"{limit} bytes" in found.probe_error
    assert "faststart" in found.probe_error  # and what would help


async def test_text_named_like_a_video_is_not_media(deps: ingest.Deps, base: str) -> None:
    found = await _probe(deps, f"{base}/broken.mp4")

    assert found.probe is None and "not a media file" in found.probe_error


@pytest.fixture
async def slow(files: dict[str, Path]) -> AsyncIterator[str]:
    """A server without Range that sends the first 64 KiB of an MP4 indexed at its end, then stalls."""
    data = files["moov-at-end.mp4"].read_bytes()

    async def head(_request: web.Request) -> web.Response:
        return web.Response(headers={"Content-Type": "video/mp4", "Content-Length": str(len(data))})

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.content_length = len(data)
        await response.prepare(request)
        await response.write(data[: 64 * 1024])
        await asyncio.sleep(30)  # cut short when the probe hangs up, or by the server's close
        return response

    app = web.Application()
    app.router.add_get("/slow.mp4", trickle, allow_head=False)
    app.router.add_route("HEAD", "/slow.mp4", head)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/slow.mp4"))
    await server.close()


async def test_a_slow_source_is_given_up_in_time_with_a_clear_error(deps: ingest.Deps, slow: str) -> None:
    started = time.monotonic()

    found = await _probe(replace(deps, unranged_probe_seconds=0.5), slow)

    assert time.monotonic() - started < 3  # well before the source's own read timeout (5 s) or the RPC's
    assert found.probe is None and "took too long" in found.probe_error
