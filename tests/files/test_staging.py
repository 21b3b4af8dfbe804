"""The gateway's streaming of a multipart part into the blob store, on a real aiohttp server."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import BodyPartReader, web
from aiohttp.test_utils import TestServer

from gateway.files import STAGING_PREFIX, stage
from services.common.blobstore import LocalBlobStore
from services.common.errors import DomainError

LIMIT = 80 << 20


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[str, LocalBlobStore]]:
    blobs = LocalBlobStore(tmp_path / "blobs")

    async def handler(request: web.Request) -> web.Response:
        part = await (await request.multipart()).next()
        assert isinstance(part, BodyPartReader)
        try:
            staged = await stage(blobs, part, LIMIT, "file")
        except DomainError as exc:
            return web.json_response({"error": exc.message}, status=400)
        return web.json_response({"key": staged.key, "size": staged.size, "sha256": staged.sha256})

    app = web.Application()
    app.router.add_post("/", handler)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield str(test_server.make_url("/")), blobs
    await test_server.close()


async def body(size: int) -> AsyncIterator[bytes]:
    block = bytes(range(256)) * 4096  # 1 MiB
    for start in range(0, size, len(block)):
        yield block[: size - start]


async def post(url: str, size: int) -> tuple[int, dict[str, str]]:
    form = aiohttp.FormData()
    form.add_field("file", body(size), filename="big.bin", content_type="application/octet-stream")
    async with aiohttp.ClientSession() as http, http.post(url, data=form) as resp:
        return resp.status, await resp.json()


async def test_a_large_part_is_staged_with_its_digest(server: tuple[str, LocalBlobStore]) -> None:
    url, blobs = server
    size = 70 << 20  # past the first periodic writeback
    status, answer = await post(url, size)
    assert status == 200 and answer["key"].startswith(STAGING_PREFIX) and int(answer["size"]) == size
    expected = hashlib.sha256()
    async for block in body(size):
        expected.update(block)
    assert answer["sha256"] == expected.hexdigest()
    assert blobs.path_of(answer["key"]).stat().st_size == size
    assert list((blobs.root / ".partial").iterdir()) == []


async def test_a_part_over_the_limit_leaves_nothing(server: tuple[str, LocalBlobStore]) -> None:
    url, blobs = server
    status, answer = await post(url, LIMIT + 1)
    assert status == 400 and "larger than" in answer["error"]
    assert list((blobs.root / ".partial").iterdir()) == [] and not (blobs.root / "files").exists()
