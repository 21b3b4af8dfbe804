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
    client_timeout,
    download,
    filename_of,
    inspect,
    parse_source_url,
)
from tests.harness import free_port

_BODY = bytes(range(256)) * 40  # 10 KiB
_VIDEO = "video/mp4"


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
