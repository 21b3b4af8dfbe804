"""Reading sources over HTTP against a local aiohttp server: inspect, download and their errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.common.http_source import (
    RemoteFile,
    SourceError,
    check_declared,
    client_timeout,
    download,
    filename_of,
    inspect,
    may_be_media,
    parse_source_url,
)
from tests.harness import free_port

_BODY = bytes(range(256)) * 40  # 10 KiB
_VIDEO = "video/mp4"
_HUGE = 30 * 1024**3  # what /huge.mp4 declares; it never sends more than one byte
_GIB = 1024**3


async def _clip(request: web.Request) -> web.Response:
    """The body, honouring a `bytes=0-0` style Range like a static file server."""
    if request.headers.get("Range") == "bytes=0-0":
        return web.Response(
            status=206,
            body=_BODY[:1],
            content_type=_VIDEO,
            headers={"Content-Range": f"bytes 0-0/{len(_BODY)}"},
        )
    return web.Response(body=_BODY, content_type=_VIDEO)


async def _named(_request: web.Request) -> web.Response:
    return web.Response(
        body=_BODY, content_type=_VIDEO, headers={"Content-Disposition": 'attachment; filename="../../holiday.mp4"'}
    )


async def _chunked(_request: web.Request) -> web.StreamResponse:
    """The body without a Content-Length, in chunks, as a live transcoder would send it."""
    response = web.StreamResponse(headers={"Content-Type": _VIDEO})
    response.enable_chunked_encoding()
    await response.prepare(_request)
    for start in range(0, len(_BODY), 1024):
        await response.write(_BODY[start : start + 1024])
    await response.write_eof()
    return response


async def _huge(request: web.Request) -> web.StreamResponse:
    """Declares 30 GiB of video and sends at most one byte of it (to a `bytes=0-0` GET): else headers only."""
    if request.headers.get("Range") == "bytes=0-0":
        return web.Response(
            status=206, body=b"\0", content_type=_VIDEO, headers={"Content-Range": f"bytes 0-0/{_HUGE}"}
        )
    response = web.StreamResponse(headers={"Content-Type": _VIDEO})
    response.content_length = _HUGE
    await response.prepare(request)
    await response.write_eof()
    return response


def _typed(path: str, body: bytes, content_type: str) -> web.RouteDef:
    async def answer(_request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": content_type})

    return web.get(path, answer)


def _status(code: int) -> web.RouteDef:
    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=code, text=f"HTTP {code}")

    return web.get(f"/status/{code}", answer)


@pytest.fixture
async def origin() -> AsyncIterator[str]:
    """A source server on loopback; its base URL."""
    app = web.Application()
    app.add_routes(
        [
            web.get("/media/clip.mp4", _clip),
            web.get("/no-head/clip.mp4", _clip, allow_head=False),  # HEAD answers 405
            web.get("/download", _named),
            web.get("/live.mp4", _chunked),
            web.get("/huge.mp4", _huge),
            web.get("/no-head/huge.mp4", _huge, allow_head=False),
            _typed("/page.html", b"<html><body>not a video</body></html>", "text/html; charset=utf-8"),
            _typed("/data.json", b'{"video": false}', "application/json"),
            _typed("/blob", _BODY, "application/octet-stream"),
            _status(404),
            _status(429),
            _status(503),
        ]
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=client_timeout(connect=2, read=5)) as opened:
        yield opened


async def _inspect_error(session: aiohttp.ClientSession, url: str) -> SourceError:
    with pytest.raises(SourceError) as caught:
        await inspect(session, url)
    return caught.value


async def test_inspect_reports_name_size_and_type(session: aiohttp.ClientSession, origin: str) -> None:
    remote = await inspect(session, f"{origin}/media/clip.mp4")

    assert remote == RemoteFile(filename="clip.mp4", size=len(_BODY), content_type=_VIDEO)


async def test_inspect_falls_back_to_a_ranged_get_when_head_is_refused(
    session: aiohttp.ClientSession, origin: str
) -> None:
    remote = await inspect(session, f"{origin}/no-head/clip.mp4")

    assert remote == RemoteFile(filename="clip.mp4", size=len(_BODY), content_type=_VIDEO)


@pytest.mark.parametrize(("code", "transient"), [(404, False), (429, True), (503, True)])
async def test_an_http_error_says_whether_retrying_may_help(
    session: aiohttp.ClientSession, origin: str, code: int, transient: bool
) -> None:
    error = await _inspect_error(session, f"{origin}/status/{code}")

    assert error.reason_name == "SOURCE_UNREACHABLE"
    assert error.transient is transient
    assert str(code) in error.message


async def test_a_refused_connection_is_transient(session: aiohttp.ClientSession) -> None:
    error = await _inspect_error(session, f"http://127.0.0.1:{free_port()}/clip.mp4")

    assert error.reason_name == "SOURCE_UNREACHABLE"
    assert error.transient is True


@pytest.mark.parametrize(
    "raw", ["ftp://example.com/clip.mp4", "/media/clip.mp4", "clip.mp4", "file:///etc/passwd", "http:///clip.mp4", ""]
)
def test_only_absolute_http_urls_are_sources(raw: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_source_url(raw)

    assert caught.value.reason_name == "URL_INVALID"
    assert caught.value.transient is False
    assert caught.value.message == "sourceUrl must be an absolute http:// or https:// URL."


def test_a_url_that_does_not_parse_is_not_valid() -> None:
    with pytest.raises(SourceError) as caught:
        parse_source_url("http://[::1/clip.mp4")

    assert caught.value.reason_name == "URL_INVALID"
    assert caught.value.message == "sourceUrl is not a valid URL."


@pytest.mark.parametrize("raw", ["http://example.com/a.mp4", "https://cdn.example.com:8443/v/b.mov?sig=1"])
def test_http_and_https_urls_are_sources(raw: str) -> None:
    assert str(parse_source_url(raw)) == raw


@pytest.mark.parametrize(
    ("disposition", "filename"),
    [
        (None, "clip name.mp4"),
        ('attachment; filename="movie.mov"', "movie.mov"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="C:\\\\Users\\\\me\\\\film.mkv"', "film.mkv"),
        ("attachment; filename*=UTF-8''caf%C3%A9.mp4", "café.mp4"),
    ],
)
def test_the_filename_comes_from_content_disposition_else_the_path(disposition: str | None, filename: str) -> None:
    assert filename_of(parse_source_url("http://example.com/v/clip%20name.mp4"), disposition) == filename


async def test_download_streams_the_body_to_a_file(session: aiohttp.ClientSession, origin: str, tmp_path: Path) -> None:
    dest = tmp_path / "source"

    remote = await download(session, f"{origin}/download", dest, max_bytes=len(_BODY))

    assert dest.read_bytes() == _BODY
    assert remote == RemoteFile(filename="holiday.mp4", size=len(_BODY), content_type=_VIDEO)


async def test_download_of_a_chunked_body_counts_its_bytes(
    session: aiohttp.ClientSession, origin: str, tmp_path: Path
) -> None:
    remote = await download(session, f"{origin}/live.mp4", tmp_path / "source", max_bytes=len(_BODY))

    assert remote.size == len(_BODY)
    assert (tmp_path / "source").read_bytes() == _BODY


@pytest.mark.parametrize("path", ["/media/clip.mp4", "/live.mp4"], ids=["content-length", "chunked"])
async def test_download_refuses_a_source_over_max_bytes(
    session: aiohttp.ClientSession, origin: str, tmp_path: Path, path: str
) -> None:
    with pytest.raises(SourceError) as caught:
        await download(session, origin + path, tmp_path / "source", max_bytes=len(_BODY) - 1)

    assert caught.value.reason_name == "FILE_TOO_LARGE"
    assert caught.value.transient is False


async def test_download_of_a_missing_source_is_not_transient(
    session: aiohttp.ClientSession, origin: str, tmp_path: Path
) -> None:
    with pytest.raises(SourceError) as caught:
        await download(session, f"{origin}/status/404", tmp_path / "source", max_bytes=len(_BODY))

    assert caught.value.transient is False
    assert not (tmp_path / "source").exists()


async def test_download_names_the_limit_it_enforces(
    session: aiohttp.ClientSession, origin: str, tmp_path: Path
) -> None:
    for path, limit, said in (("/huge.mp4", 20 * _GIB, "20 GiB"), ("/media/clip.mp4", 8 * 1024, "8192 bytes")):
        with pytest.raises(SourceError) as caught:
            await download(session, origin + path, tmp_path / "source", max_bytes=limit)

        assert caught.value.reason_name == "FILE_TOO_LARGE"
        assert caught.value.message == f"The source is larger than the limit of {said}."


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "video/mp4",
        "VIDEO/MP4",
        'video/mp4; codecs="avc1.64001f, mp4a.40.2"',
        "video/x-matroska",
        "video/MP2T",
        "audio/mpeg",
        "audio/x-wav",
        "application/octet-stream",
        "application/octet-stream; charset=binary",
        "binary/octet-stream",
        "application/mp4",
        "application/x-mpegURL",
        "application/vnd.apple.mpegurl; charset=utf-8",
        "application/mxf",
        "application/ogg",
        "application/dash+xml",
        "application/x-download",
        "text/vnd.trolltech.linguist",
        "nonsense",
    ],
)
def test_media_and_generic_types_may_be_media(content_type: str | None) -> None:
    assert may_be_media(content_type) is True


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "text/html; charset=utf-8",
        " TEXT/HTML ;charset=UTF-8",
        "text/plain",
        "text/csv",
        "application/json",
        "application/problem+json",
        "application/xml",
        "application/rss+xml",
        "application/xhtml+xml",
        "application/javascript",
        "application/pdf",
        "application/x-www-form-urlencoded",
        "image/png",
        "image/svg+xml",
        "font/woff2",
        "multipart/form-data; boundary=x",
    ],
)
def test_documents_are_not_media(content_type: str) -> None:
    assert may_be_media(content_type) is False


@pytest.mark.parametrize("path", ["/huge.mp4", "/no-head/huge.mp4"], ids=["content-length", "content-range"])
async def test_a_declared_size_over_the_limit_is_refused_before_any_body_is_read(
    session: aiohttp.ClientSession, origin: str, path: str
) -> None:
    remote = await inspect(session, origin + path)
    assert remote == RemoteFile(filename="huge.mp4", size=_HUGE, content_type=_VIDEO)

    with pytest.raises(SourceError) as caught:
        check_declared(remote, max_bytes=20 * _GIB)

    assert caught.value.reason_name == "FILE_TOO_LARGE"
    assert caught.value.transient is False
    assert caught.value.message == f"The source is {_HUGE} bytes, larger than the limit of 20 GiB."
    check_declared(remote, max_bytes=_HUGE)  # at the limit is within it


@pytest.mark.parametrize(
    ("path", "media_type"), [("/page.html", "text/html"), ("/data.json", "application/json")], ids=["html", "json"]
)
async def test_a_declared_document_type_is_refused_naming_it(
    session: aiohttp.ClientSession, origin: str, path: str, media_type: str
) -> None:
    with pytest.raises(SourceError) as caught:
        check_declared(await inspect(session, origin + path), max_bytes=20 * _GIB)

    assert caught.value.reason_name == "CONTENT_TYPE_UNSUPPORTED"
    assert caught.value.transient is False
    assert f"'{media_type}'" in caught.value.message


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/media/clip.mp4", _VIDEO), ("/no-head/clip.mp4", _VIDEO), ("/blob", "application/octet-stream")],
    ids=["video", "video-ranged", "octet-stream"],
)
async def test_media_within_the_limit_passes(
    session: aiohttp.ClientSession, origin: str, path: str, content_type: str
) -> None:
    remote = await inspect(session, origin + path)

    check_declared(remote, max_bytes=len(_BODY))
    assert remote.content_type == content_type


def test_a_source_that_declares_neither_size_nor_type_passes() -> None:
    check_declared(RemoteFile(filename="live", size=None, content_type=None), max_bytes=1)
