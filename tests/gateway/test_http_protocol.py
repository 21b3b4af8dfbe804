"""HTTP/1 at the edge, over raw sockets: what the parser refuses comes back in the dialect's JSON shape without
a byte of the input (nor in any log), and slow clients are cut off (gateway/protocol.py)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.sdk.trace import TracerProvider

from gateway.protocol import GatewayRunner, HttpLimits
from tests.conftest import GENEROUS_LIMITS, start_platform
from tests.harness import NatsServer, Platform

HEADER_TIMEOUT, BODY_TIMEOUT, KEEPALIVE_TIMEOUT = 0.5, 1.0, 3.0
SETTINGS = GENEROUS_LIMITS | {
    "http_header_timeout": HEADER_TIMEOUT,
    "http_body_timeout": BODY_TIMEOUT,
    "http_keepalive_timeout": KEEPALIVE_TIMEOUT,
}
PATIENCE = 10.0  # how long a test waits for the server to answer or hang up: far past every timeout above
STATUS_JOB = "/ondemand/status/00000000-0000-0000-0000-000000000000"


@pytest.fixture
async def edge(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    started = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False, gateway_settings=SETTINGS)
    async with started.stack:
        yield started


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Conn:
    """One raw TCP connection to the gateway."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def reply(self) -> Reply:
        """One response, by its Content-Length."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), PATIENCE)
        status_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
        body = await asyncio.wait_for(self.reader.readexactly(int(headers.get("content-length", "0"))), PATIENCE)
        return Reply(int(status_line.split(" ", 2)[1]), headers, body)

    async def rest(self) -> bytes:
        """Everything until the server hangs up (asyncio.TimeoutError if it does not within PATIENCE)."""
        return await asyncio.wait_for(self.reader.read(), PATIENCE)

    async def close(self) -> None:
        self.writer.close()
        with suppress(ConnectionError):
            await self.writer.wait_closed()


async def refused(port: int, request: bytes) -> tuple[Reply, bytes]:
    """The reply to a request the server refuses and hangs up after; and every byte it sent."""
    conn = await Conn.open(port)
    try:
        await conn.send(request)
        raw = await conn.rest()
    finally:
        await conn.close()
    reader = asyncio.StreamReader()
    reader.feed_data(raw)
    reader.feed_eof()
    return await Conn(reader, conn.writer).reply(), raw


def port_of(platform: Platform) -> int:
    return int(platform.base_url.rsplit(":", 1)[1])


def encode_error(message: str) -> dict[str, Any]:
    return {"code": "invalid_request", "message": message}


def media_error(message: str) -> dict[str, Any]:
    return {"success": False, "error": {"code": "VALIDATION_ERROR", "message": message, "details": None}}


def get(path: bytes, *headers: bytes) -> bytes:
    return b"GET " + path + b" HTTP/1.1\r\nHost: gw\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


MANY = tuple(b"X-Echo-%d: 1" % i for i in range(200))
PAD = b"X-Echo: " + b"e" * 9000
NUL = b"X-Echo: echo\x00"
CASES = [  # request, status, dialect, message
    (get(b"/ondemand/status/" + b"e" * 9000), 414, encode_error, "The request line is too long."),
    (get(b"/api/v1/jobs/" + b"e" * 9000), 414, media_error, "The request line is too long."),
    (get(STATUS_JOB.encode(), PAD), 431, encode_error, "A request header is too long."),
    (get(b"/api/v1/jobs", PAD), 431, media_error, "A request header is too long."),
    (get(STATUS_JOB.encode(), *MANY), 431, encode_error, "The request has too many headers."),
    (get(b"/api/v1/jobs?page=1", *MANY), 431, media_error, "The request has too many headers."),
    (get(STATUS_JOB.encode(), NUL), 400, encode_error, "The request headers are malformed."),
    (get(b"/api/v1", NUL), 400, media_error, "The request headers are malformed."),
    # Without a request line that parses, the route is not known: the Encode shape.
    (b"G@T /api/v1/jobs HTTP/1.1\r\nX-Echo: 1\r\n\r\n", 400, encode_error, "The request method is not valid."),
    (b"\x16\x03\x01\x00\xa5X-Echo\r\n\r\n", 400, encode_error, "The request method is not valid."),
    (b"GET /api/v1/jobs HTTP/X-Echo\r\n\r\n", 400, media_error, "The request line is malformed."),
]


async def test_parser_refusals_come_in_the_dialects_shape_without_the_input(edge: Platform) -> None:
    for request, status, shape, message in CASES:
        reply, raw = await refused(port_of(edge), request)
        case = request[:40]
        assert (reply.status, reply.headers["content-type"]) == (status, "application/json; charset=utf-8"), case
        assert reply.json() == shape(message), case
        assert b"Echo" not in raw and b"eee" not in raw, case


async def test_a_key_the_parser_refuses_is_neither_echoed_nor_logged(
    edge: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = edge.admin_key.encode()
    for request in (
        get(STATUS_JOB.encode(), b"X-API-Key: " + key + b"\x00"),
        get(b"/api/v1/jobs", b"Authorization: Bearer " + key + b"\x00"),
        get(b"/api/v1/jobs", b"Authorization: Bearer " + key + b"k" * 9000),  # aiohttp quotes 100 bytes of it
        get(b"/ondemand/encode/" + key + b"k" * 9000, b"X-API-Key: " + key),
    ):
        reply, raw = await refused(port_of(edge), request)
        assert reply.status in (400, 414, 431) and key not in raw
    assert key.decode() not in caplog.text
    for record in caplog.records:
        assert edge.admin_key not in record.getMessage() + str(record.args) + str(record.exc_info), record
    assert any(r.name == "gateway.protocol" and "refused a request" in r.getMessage() for r in caplog.records)


async def test_a_head_that_does_not_arrive_in_time_is_hung_up_on(edge: Platform) -> None:
    port = port_of(edge)
    silent, partial, drip = await Conn.open(port), await Conn.open(port), await Conn.open(port)
    try:
        await partial.send(b"GET /health HTTP/1.1\r\nHost: gw\r\n")
        await drip.send(b"GET /health HTTP/1.1\r\nX-Drip: ")
        hung_up = asyncio.ensure_future(drip.rest())
        while not hung_up.done():  # a byte every 0.1 s: a head's time counts in all, not between bytes
            with suppress(ConnectionError):
                await drip.send(b"d")
            await asyncio.wait([hung_up], timeout=0.1)
        assert await hung_up == b""
        assert await silent.rest() == b""  # connected, never sent a byte
        assert await partial.rest() == b""
    finally:
        for conn in (silent, partial, drip):
            await conn.close()


async def test_a_stalled_body_is_answered_408_in_the_dialects_shape(edge: Platform) -> None:
    stalls = [
        (
            b"POST /ondemand/encode HTTP/1.1\r\nHost: gw\r\nX-API-Key: %s\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"sourceUrl": ' % edge.admin_key.encode(),
            encode_error,
        ),
        (  # a streaming upload, cut off mid-file
            b"POST /api/v1/files/upload HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n"
            b'Content-Disposition: form-data; name="file"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
            b"\x00\x00\x00\x18ftypmp42" % edge.admin_key.encode(),
            media_error,
        ),
    ]
    for request, shape in stalls:
        conn = await Conn.open(port_of(edge))
        try:
            await conn.send(request)
            reply = await conn.reply()
            assert (reply.status, reply.json()) == (408, shape("No part of the request body arrived for 1 s.")), reply
            assert await conn.rest() == b""  # and the connection is closed: the rest is not coming
        finally:
            await conn.close()


async def test_a_slow_but_steady_body_and_an_idle_keepalive_are_served(edge: Platform) -> None:
    conn = await Conn.open(port_of(edge))
    try:
        body = b'{"sourceUrl": 5' + b" " * 23 + b"}"
        await conn.send(
            b"POST /ondemand/encode HTTP/1.1\r\nHost: gw\r\nX-API-Key: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (edge.admin_key.encode(), len(body))
        )
        for i in range(0, len(body), 2):  # 4 s in all, 0.2 s between pieces: an idle limit of 1 s allows it
            await asyncio.sleep(0.2)
            await conn.send(body[i : i + 2])
        reply = await conn.reply()
        assert (reply.status, reply.json()["code"]) == (400, "invalid_body")  # read to its end, then validated

        await asyncio.sleep(HEADER_TIMEOUT * 3)  # idle between requests: the head timer is not running
        await conn.send(get(b"/health"))
        assert (await conn.reply()).status == 200
        assert await conn.rest() == b""  # hung up on after http_keepalive_timeout (3 s) idle
    finally:
        await conn.close()


async def test_a_server_slower_than_its_client_does_not_count_as_a_stall() -> None:
    """The body's buffer fills and reading pauses (flow control) while the handler is busy: not the client's
    doing, so no 408 however long the handler takes."""

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(BODY_TIMEOUT * 3)
        return web.json_response({"size": len(await request.read())})

    app = web.Application(client_max_size=16 << 20)
    app.router.add_post("/slow", slow)
    runner = GatewayRunner(app, limits=HttpLimits(HEADER_TIMEOUT, BODY_TIMEOUT), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/slow"
            async with http.post(url, data=io.BytesIO(b"s" * (8 << 20))) as resp:
                assert (resp.status, await resp.json()) == (200, {"size": 8 << 20})
    finally:
        await runner.cleanup()
