"""The Media API's files end to end: uploads streamed to content-addressed storage, reads, signed links."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider

from protos.ingest.v1 import files_pb2, files_pb2_grpc
from services.common.identity import bearer_metadata
from services.common.signing import UrlSigner
from tests.conftest import GENEROUS_LIMITS, start_platform
from tests.files.helpers import auth, call, form, jpeg_width, png, stored, upload
from tests.harness import SECRET, NatsServer, Platform


@pytest.fixture
async def files_platform(
    tmp_path: Path, nats: NatsServer, database_url: str | None, tracer_provider: TracerProvider
) -> AsyncIterator[Platform]:
    """Every service but the encoder, on the parametrized database; uploads limited to 4 MiB."""
    settings = {**GENEROUS_LIMITS, "max_upload_bytes": 4 * 1024 * 1024}
    started = await start_platform(
        tmp_path, nats, database_url, tracer_provider, encoder=False, gateway_settings=settings
    )
    async with started.stack:
        yield started


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def blobs(platform: Platform) -> Path:
    return platform.data_dir / "blobs"


async def test_upload_list_details_metadata_and_download(
    files_platform: Platform, http: aiohttp.ClientSession, clips: dict[str, Path], tmp_path: Path
) -> None:
    base, key = files_platform.base_url, files_platform.admin_key
    video = clips["silent"].read_bytes()
    up = await upload(http, base, key, "clip.mp4", video, "video/mp4", description="A clip", subdirectory="a/b")
    assert up["filename"] == "clip.mp4" and up["size"] == len(video) and up["file_type"] == "video"
    assert up["checksum"] == f"sha256:{hashlib.sha256(video).hexdigest()}"
    assert up["blob_key"] == f"files/sha256/{hashlib.sha256(video).hexdigest()}"
    assert (up["description"], up["subdirectory"], up["deduplicated"]) == ("A clip", "a/b", False)
    audio = await upload(http, base, key, "tone.m4a", clips["audio"].read_bytes())  # type from the name
    image = await upload(http, base, key, "pic.png", png(tmp_path / "pic.png").read_bytes(), "image/png")
    text = await upload(http, base, key, "notes.txt", clips["text"].read_bytes(), "text/plain")
    assert (audio["file_type"], audio["content_type"]) == ("audio", "audio/mp4")
    assert (image["file_type"], text["file_type"]) == ("image", "document")

    status, listing = await call(http, "GET", f"{base}/api/v1/files?items_per_page=3", key)
    assert status == 200 and [f["id"] for f in listing["data"]["items"]] == [text["id"], image["id"], audio["id"]]
    assert listing["data"]["pagination"] == {
        "page": 1,
        "items_per_page": 3,
        "total_items": 4,
        "total_pages": 2,
        "has_next": True,
        "has_previous": False,
        "next_page": 2,
        "previous_page": None,
    }
    status, page2 = await call(http, "GET", f"{base}/api/v1/files?items_per_page=3&page=2", key)
    assert [f["id"] for f in page2["data"]["items"]] == [up["id"]]
    for kind, expected in (("video", [up["id"]]), ("image", [image["id"]]), ("other", [])):
        status, only = await call(http, "GET", f"{base}/api/v1/files?file_type={kind}", key)
        assert status == 200 and [f["id"] for f in only["data"]["items"]] == expected, kind

    status, details = await call(http, "GET", f"{base}/api/v1/files/{up['id']}", key)
    assert status == 200 and details["data"] == up

    status, meta = await call(http, "GET", f"{base}/api/v1/files/{up['id']}/metadata", key)
    assert status == 200 and meta["data"]["sha256"] == hashlib.sha256(video).hexdigest()
    media = meta["data"]["metadata"]
    assert (media["width"], media["height"], media["video_codec"]) == (640, 360, "h264")
    assert media["duration"] == pytest.approx(1.0, abs=0.1)
    status, meta = await call(http, "GET", f"{base}/api/v1/files/{audio['id']}/metadata", key)
    assert (meta["data"]["metadata"]["audio_codec"], meta["data"]["metadata"]["has_video"]) == ("aac", False)
    status, meta = await call(http, "GET", f"{base}/api/v1/files/{image['id']}/metadata", key)
    assert meta["data"]["metadata"] == {"width": 400, "height": 300, "format": "png"}
    status, meta = await call(http, "GET", f"{base}/api/v1/files/{text['id']}/metadata", key)
    assert (meta["data"]["metadata"], meta["data"]["probe_error"]) == ({}, None)

    url = f"{base}/api/v1/files/{up['id']}/download"
    async with http.get(url, headers=auth(key)) as resp:
        assert resp.status == 200 and await resp.read() == video
        assert resp.headers["Content-Type"] == "video/mp4"
        assert resp.headers["Content-Disposition"].startswith('attachment; filename="clip.mp4"')
        etag = resp.headers["ETag"]
    async with http.get(url, headers={**auth(key), "If-None-Match": etag}) as resp:
        assert resp.status == 304
    async with http.head(url, headers=auth(key)) as resp:
        assert resp.status == 200 and resp.headers["Content-Length"] == str(len(video))
    async with http.get(url, headers={**auth(key), "Range": "bytes=100-199"}) as resp:
        assert resp.status == 206 and await resp.read() == video[100:200]
    async with http.get(f"{url}?inline=true", headers=auth(key)) as resp:
        assert resp.headers["Content-Disposition"].startswith("inline")
    async with http.get(f"{base}/api/v1/files/{up['id']}/stream?quality=720p", headers=auth(key)) as resp:
        assert resp.status == 200 and resp.headers["Content-Disposition"].startswith("inline")
    async with http.get(
        f"{base}/api/v1/files/{up['id']}/stream", headers={**auth(key), "Range": "bytes=1000-"}
    ) as resp:
        assert resp.status == 206 and await resp.read() == video[1000:]
    status, counts = await call(http, "GET", f"{base}/api/v1/files/{up['id']}/analytics", key)
    # Downloads and streams from the first byte count; the 304, ranged reads further in and HEADs do not.
    assert (counts["data"]["download_count"], counts["data"]["stream_count"]) == (3, 1)
    assert counts["data"]["total_accesses"] == 4 and counts["data"]["last_accessed_at"]

    # A text file is never rendered inline (nor would HTML be): the type's own name, as an attachment.
    async with http.get(f"{base}/api/v1/files/{text['id']}/download?inline=true", headers=auth(key)) as resp:
        assert resp.headers["Content-Disposition"].startswith("inline")  # text/plain is safe
    html = await upload(http, base, key, "page.html", b"<script>alert(1)</script>", "text/html")
    async with http.get(f"{base}/api/v1/files/{html['id']}/download?inline=true", headers=auth(key)) as resp:
        assert resp.headers["Content-Disposition"].startswith("attachment")
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_thumbnails_made_once_and_kept(
    files_platform: Platform, http: aiohttp.ClientSession, clips: dict[str, Path], tmp_path: Path
) -> None:
    base, key = files_platform.base_url, files_platform.admin_key
    video = await upload(http, base, key, "hd.mp4", clips["hd"].read_bytes())
    image = await upload(http, base, key, "pic.png", png(tmp_path / "pic.png").read_bytes())
    audio = await upload(http, base, key, "tone.m4a", clips["audio"].read_bytes())
    for size, width in (("small", 160), ("medium", 320), ("large", 640)):
        async with http.get(f"{base}/api/v1/files/{video['id']}/thumbnail?size={size}", headers=auth(key)) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "image/jpeg"
            assert jpeg_width(await r.read(), tmp_path) == width
    assert len(stored(blobs(files_platform), "files/thumbs")) == 3
    async with http.get(f"{base}/api/v1/files/{image['id']}/thumbnail?size=large", headers=auth(key)) as r:
        assert r.status == 200 and jpeg_width(await r.read(), tmp_path) == 400  # never wider than the image
    status, body = await call(http, "GET", f"{base}/api/v1/files/{audio['id']}/thumbnail", key)
    assert status == 409 and body["error"]["code"] == "CONFLICT"
    status, body = await call(http, "GET", f"{base}/api/v1/files/{video['id']}/thumbnail?size=huge", key)
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR"


async def test_identical_uploads_are_stored_once_until_the_last_is_deleted(
    files_platform: Platform, http: aiohttp.ClientSession, clips: dict[str, Path]
) -> None:
    base, key = files_platform.base_url, files_platform.admin_key
    content = clips["silent"].read_bytes()
    first = await upload(http, base, key, "one.mp4", content)
    async with http.post(
        f"{base}/api/v1/files/batch-upload",
        data=form("files", [("two.mp4", content, None), ("notes.txt", b"some notes\n", "text/plain")]),
        headers=auth(key),
    ) as resp:
        batch = (await resp.json())["data"]
        assert resp.status == 200 and batch["total_files"] == 2
    second = batch["files"][0]
    assert second["blob_key"] == first["blob_key"] and (first["deduplicated"], second["deduplicated"]) == (False, True)
    contents = stored(blobs(files_platform), "files/sha256")
    assert len(contents) == 2 and stored(blobs(files_platform), "files/incoming") == []
    status, stats = await call(http, "GET", f"{base}/api/v1/files/stats", key)
    assert status == 200 and stats["data"]["deduplication"] == {
        "logical_bytes": 2 * len(content) + 11,
        "stored_bytes": len(content) + 11,
        "saved_bytes": len(content),
        "deduplicated_files": 1,
    }
    assert stats["data"]["by_type"]["video"] == {"count": 2, "size": 2 * len(content)}
    assert stats["data"]["by_type"]["document"] == {"count": 1, "size": 11}

    # Another account uploading the same bytes shares them, and is told nothing about it.
    other = await files_platform.new_key(email="other@example.com")
    theirs = await upload(http, base, other, "same.mp4", content)
    assert theirs["deduplicated"] is False and len(stored(blobs(files_platform), "files/sha256")) == 2
    async with http.get(f"{base}/api/v1/files/{first['id']}/thumbnail", headers=auth(key)) as resp:
        assert resp.status == 200

    for gone, holder in ((first, second), (second, theirs)):
        status, body = await call(http, "DELETE", f"{base}/api/v1/files/{gone['id']}", key)
        assert status == 200 and body["data"] == {"id": gone["id"], "deleted": True}
        assert (await call(http, "GET", f"{base}/api/v1/files/{gone['id']}", key))[0] == 404
        holder_key = other if holder is theirs else key
        async with http.get(f"{base}/api/v1/files/{holder['id']}/download", headers=auth(holder_key)) as resp:
            assert resp.status == 200 and await resp.read() == content
    status, _ = await call(http, "DELETE", f"{base}/api/v1/files/{theirs['id']}", other)
    assert status == 200
    assert len(stored(blobs(files_platform), "files/sha256")) == 1  # the notes are left
    assert stored(blobs(files_platform), "files/thumbs") == [] and stored(blobs(files_platform), "files/trash") == []
    status, stats = await call(http, "GET", f"{base}/api/v1/files/stats", key)
    assert stats["data"]["total_files"] == 1 and stats["data"]["deduplication"]["deduplicated_files"] == 0


async def test_signed_urls_work_without_credentials_until_they_expire(
    files_platform: Platform, http: aiohttp.ClientSession
) -> None:
    base, key = files_platform.base_url, files_platform.admin_key
    up = await upload(http, base, key, "report.pdf", b"%PDF-1.4 not much of a pdf", "application/pdf")
    status, body = await call(http, "POST", f"{base}/api/v1/files/{up['id']}/signed-url", key, json={"expires_in": 2})
    assert status == 200 and body["data"]["expires_in"] == 2
    url = body["data"]["url"]
    assert url.startswith(f"{base}/api/v1/files/secure/{up['id']}?") and "signature=" in url
    async with http.get(url) as resp:
        assert resp.status == 200 and await resp.read() == b"%PDF-1.4 not much of a pdf"
    async with http.get(url.replace("signature=", "signature=x")) as resp:
        assert resp.status == 403 and (await resp.json())["error"]["code"] == "PERMISSION_DENIED"
    status, counts = await call(http, "GET", f"{base}/api/v1/files/{up['id']}/analytics", key)
    assert counts["data"]["signed_url_count"] == 1 and counts["data"]["download_count"] == 0

    await asyncio.sleep(3.1)
    async with http.get(url) as resp:
        body = await resp.json()
        assert resp.status == 403 and body["success"] is False and body["error"]["message"] == "The link has expired."

    # One crafted with the platform key for a moment already past is refused alike.
    signer = UrlSigner(SECRET.encode(), purpose="file-url", prefix="/api/v1/files/secure/")
    account = url.split("user_id=")[1].split("&")[0]
    path = signer.path(up["id"], expires_at=datetime.now(UTC) - timedelta(seconds=1), user_id=account)
    async with http.get(base + path.replace("sig=", "signature=")) as resp:
        assert resp.status == 403 and (await resp.json())["error"]["message"] == "The link has expired."

    # A deleted file's link finds nothing.
    status, body = await call(http, "POST", f"{base}/api/v1/files/{up['id']}/signed-url", key)
    assert status == 200 and body["data"]["expires_in"] == 3600
    assert (await call(http, "DELETE", f"{base}/api/v1/files/{up['id']}", key))[0] == 200
    async with http.get(body["data"]["url"]) as resp:
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "RESOURCE_NOT_FOUND"


ID_ROUTES = [
    ("GET", ""),
    ("GET", "/metadata"),
    ("GET", "/download"),
    ("GET", "/stream"),
    ("GET", "/thumbnail"),
    ("GET", "/analytics"),
    ("POST", "/signed-url"),
    ("DELETE", ""),
]


async def test_another_accounts_file_answers_like_a_missing_one(
    files_platform: Platform, http: aiohttp.ClientSession, clips: dict[str, Path]
) -> None:
    base, key = files_platform.base_url, files_platform.admin_key
    mine = await upload(http, base, key, "clip.mp4", clips["silent"].read_bytes())
    other = await files_platform.new_key(email="other@example.com")
    for method, tail in ID_ROUTES:
        answers = [
            await call(http, method, f"{base}/api/v1/files/{file_id}{tail}", other)
            for file_id in (mine["id"], "00000000-0000-0000-0000-000000000000", "not-an-id")
        ]
        assert answers[0][0] == 404 and answers[0][1]["error"]["code"] == "RESOURCE_NOT_FOUND", (method, tail)
        assert answers[1:] == [answers[0]] * 2, (method, tail)
    status, listing = await call(http, "GET", f"{base}/api/v1/files", other)
    assert listing["data"]["items"] == [] and listing["data"]["pagination"]["total_items"] == 0
    status, body = await call(http, "POST", f"{base}/api/v1/files/cleanup", other, json={"older_than_days": 0})
    assert status == 200 and body["data"]["deleted_count"] == 0
    status, body = await call(http, "GET", f"{base}/api/v1/files/{mine['id']}/analytics", key)
    assert status == 200 and body["data"]["total_accesses"] == 0  # nothing the other account did counted


async def test_bad_input_is_refused_in_the_media_envelope(
    files_platform: Platform, http: aiohttp.ClientSession
) -> None:
    base, key = files_platform.base_url, files_platform.admin_key
    up = await upload(http, base, key, "a.bin", b"\x00\x01\x02")
    assert up["file_type"] == "other" and up["content_type"] == "application/octet-stream"
    files_url = f"{base}/api/v1/files"
    refused: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"{files_url}/upload", {"data": form("file", [], description="no file")}),
        ("POST", f"{files_url}/upload", {"json": {"file": "not multipart"}}),
        ("POST", f"{files_url}/upload", {"data": form("file", [("a.txt", b"", "text/plain")])}),
        ("POST", f"{files_url}/upload", {"data": form("file", [("a.txt", b"x", None)], file_type="spreadsheet")}),
        ("POST", f"{files_url}/upload", {"data": form("file", [("a.txt", b"x", None)], colour="blue")}),
        ("POST", f"{files_url}/upload", {"data": form("file", [("a", b"x", None), ("b", b"y", None)])}),
        ("POST", f"{files_url}/upload", {"data": form("file", [("a.txt", b"x", None)], subdirectory="../up")}),
        ("POST", f"{files_url}/batch-upload", {"data": form("file", [("a.txt", b"x", None)])}),
        ("GET", f"{files_url}?file_type=spreadsheet", {}),
        ("GET", f"{files_url}?items_per_page=500", {}),
        ("GET", f"{files_url}/{up['id']}/download?inline=maybe", {}),
        ("GET", f"{files_url}/{up['id']}/stream?quality=8k", {}),
        ("POST", f"{files_url}/{up['id']}/signed-url", {"json": {"expires_in": 10**9}}),
        ("POST", f"{files_url}/{up['id']}/signed-url", {"json": {"expires_in": "soon"}}),
        ("POST", f"{files_url}/cleanup", {"json": {}}),
        ("POST", f"{files_url}/cleanup", {"json": {"file_type": "spreadsheet"}}),
    ]
    for method, url, kwargs in refused:
        status, body = await call(http, method, url, key, **kwargs)
        assert status == 400, (method, url, body)
        assert body["success"] is False and body["error"]["code"] == "VALIDATION_ERROR", (method, url, body)
    status, listing = await call(http, "GET", files_url, key)
    assert [f["id"] for f in listing["data"]["items"]] == [up["id"]]  # nothing refused was kept
    assert stored(blobs(files_platform), "files/incoming") == [] and stored(blobs(files_platform), ".partial") == []
    status, body = await call(http, "GET", files_url)
    assert status == 401 and body["error"]["code"] == "AUTH_REQUIRED"
    read_only = await files_platform.new_key(email="admin@localhost", scopes=("jobs:read",))
    status, body = await call(http, "POST", f"{files_url}/upload", read_only, data=form("file", [("a", b"x", None)]))
    assert status == 403 and body["error"]["code"] == "PERMISSION_DENIED"
    status, body = await call(http, "DELETE", f"{files_url}/{up['id']}", read_only)
    assert status == 403


async def test_an_upload_over_the_limit_is_refused_and_nothing_is_stored(
    files_platform: Platform, http: aiohttp.ClientSession
) -> None:
    base, key = files_platform.base_url, files_platform.admin_key
    limit = 4 * 1024 * 1024
    # Declared too large (refused before a byte is read), and found too large while streaming.
    for size in (limit + 1024 * 1024, limit + 1):
        status, body = await call(
            http, "POST", f"{base}/api/v1/files/upload", key, data=form("file", [("big.bin", b"\x07" * size, None)])
        )
        assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR", body
        assert "larger than 4194304 bytes" in body["error"]["message"]
    status, body = await call(
        http,
        "POST",
        f"{base}/api/v1/files/batch-upload",
        key,
        data=form("files", [("ok.bin", b"fine", None), ("big.bin", b"\x07" * (limit + 1), None)]),
    )
    assert status == 400 and "larger than" in body["error"]["message"]
    status, listing = await call(http, "GET", f"{base}/api/v1/files", key)
    assert listing["data"]["pagination"]["total_items"] == 0
    assert stored(blobs(files_platform), "files") == [] and stored(blobs(files_platform), ".partial") == []
    exactly = await upload(http, base, key, "limit.bin", b"\x07" * limit)
    assert exactly["size"] == limit


async def test_cleanup_by_type_and_age(files_platform: Platform, http: aiohttp.ClientSession) -> None:
    base, key = files_platform.base_url, files_platform.admin_key
    notes = [await upload(http, base, key, f"n{i}.txt", f"note {i}".encode(), "text/plain") for i in range(3)]
    data = await upload(http, base, key, "data.bin", b"\x01\x02")
    cleanup = f"{base}/api/v1/files/cleanup"
    status, body = await call(http, "POST", cleanup, key, json={"file_type": "document", "dry_run": True})
    assert status == 200 and body["data"]["deleted_count"] == 3 and body["data"]["dry_run"] is True
    assert {f["id"] for f in body["data"]["files"]} == {n["id"] for n in notes}
    assert (await call(http, "GET", f"{base}/api/v1/files", key))[1]["data"]["pagination"]["total_items"] == 4
    status, body = await call(http, "POST", cleanup, key, json={"file_type": "document"})
    assert (body["data"]["deleted_count"], body["data"]["deleted_bytes"], body["data"]["remaining"]) == (3, 18, 0)
    status, body = await call(http, "POST", cleanup, key, json={"older_than_days": 1})
    assert body["data"]["deleted_count"] == 0  # nothing is a day old
    status, body = await call(http, "POST", cleanup, key, json={"older_than_days": 0, "file_type": "other"})
    assert [f["id"] for f in body["data"]["files"]] == [data["id"]]
    assert stored(blobs(files_platform), "files") == []


async def test_a_grpc_caller_cannot_claim_content_it_does_not_have(
    files_platform: Platform, http: aiohttp.ClientSession
) -> None:
    """Ingest takes a digest only under the gateway's seal: knowing a hash gives no access to the bytes."""
    up = await upload(http, files_platform.base_url, files_platform.admin_key, "secret.txt", b"the admin's secret")
    stranger = bearer_metadata(await files_platform.new_key(email="stranger@example.com"))
    claim = files_pb2.NewFile(
        staging_key=f"files/incoming/{'0' * 32}",
        size_bytes=up["size"],
        sha256=up["checksum"].removeprefix("sha256:"),
        seal="forged",
        seal_expires=2**40,
        filename="mine.txt",
    )
    async with grpc.aio.insecure_channel(files_platform.services["ingest"].addr) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await files_pb2_grpc.FileServiceStub(channel).RegisterFiles(
                files_pb2.RegisterFilesRequest(files=[claim]), metadata=stranger, timeout=10
            )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_an_interrupted_upload_leaves_nothing(files_platform: Platform, http: aiohttp.ClientSession) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"\x05" * (1 << 20)
        await asyncio.sleep(0.3)
        assert len(stored(blobs(files_platform), ".partial")) == 1  # the gateway is writing it
        raise ConnectionAbortedError("the client went away")

    data = aiohttp.FormData()
    data.add_field("file", body(), filename="cut.bin", content_type="application/octet-stream")
    with pytest.raises((aiohttp.ClientError, ConnectionAbortedError)):
        await http.post(
            f"{files_platform.base_url}/api/v1/files/upload", data=data, headers=auth(files_platform.admin_key)
        )
    for _ in range(100):
        if not stored(blobs(files_platform), ".partial") and not stored(blobs(files_platform), "files"):
            break
        await asyncio.sleep(0.05)
    assert stored(blobs(files_platform), ".partial") == [] and stored(blobs(files_platform), "files") == []
