"""HTTP/1 connections at the edge: what the parser refuses, answered in the API's error shapes; slow clients cut off.

aiohttp answers a request its parser refuses (a request line or header over 8 KB, too many headers, a NUL in a
header value) before any middleware runs, with `400 text/plain` quoting the offending bytes, and logs them with a
traceback: an API key sent with a stray NUL came back in the body and went to the log. Here those are answered in
the dialect's JSON shape with fixed words, and only the error's class is logged.

aiohttp bounds neither how long a request head may take nor how long a body may stall (its keep-alive timer only
covers a connection idle between requests). Here a head must be complete `header_timeout` seconds after its first
byte (or the connection's start), else the connection is closed; a body that gets no byte for `body_idle_timeout`
seconds while the server would read one is answered 408 by the error middleware, in the route's dialect. Idle, not
total: an upload may take hours.

The hooks: a RequestHandler subclass made by a web.Server subclass, which `GatewayRunner._make_server` builds from
the one aiohttp makes. It reads a few of RequestHandler's own fields (`_messages`, `_request_count`,
`_current_request`, `_reading_paused`): tests/gateway/test_http_protocol.py fails if an aiohttp upgrade moves them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http import RawRequestMessage
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    PayloadEncodingError,
)
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from gateway.errors import ApiError, encode_body, is_media, media_body
from services.common.errors import R

logger = logging.getLogger(__name__)

_SNIFF = 64  # bytes of a request head kept to tell its dialect: "GET /api/v1/" fits with room to spare
# A request line aimed at the Media API (as errors.is_media: /api/v1 itself or below it, or with a query).
_MEDIA_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ /api/v1[/? ]")
_TOO_MANY_HEADERS = "Too many headers received"  # both of aiohttp's parsers say this, and nothing else of it

Handler = Callable[[BaseRequest], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class HttpLimits:
    """Seconds a request head may take in all, and a request body may go without a byte."""

    header_timeout: float
    body_idle_timeout: float


class BodyTimeout(web.HTTPRequestTimeout):
    """Raised from a stalled body's reads: the error middleware answers it, 408 in the route's dialect."""


def refusal(exc: HttpProcessingError, *, line_too_long: bool = False, in_headers: bool = False) -> tuple[int, str]:
    """Status and fixed words for what the parser refused: none of the input, whatever the exception quotes.

    `line_too_long`: the request line seen is over the limit; `in_headers`: the error came past the request line."""
    if isinstance(exc, LineTooLong):
        # The URL alone cannot pass the limit without the request line doing so.
        return (414, "The request line is too long.") if line_too_long else (431, "A request header is too long.")
    if exc.message == _TOO_MANY_HEADERS:
        return 431, "The request has too many headers."
    if isinstance(exc, BadHttpMethod):  # before BadStatusLine, its base class
        return 400, "The request method is not valid."
    if isinstance(exc, BadStatusLine | InvalidURLError):
        return 400, "The request line is malformed."
    if isinstance(exc, PayloadEncodingError):
        return 400, "The request body is malformed."
    if isinstance(exc, InvalidHeader) or in_headers:  # the C parser's word for a NUL is a bare BadHttpMessage
        return 400, "The request headers are malformed."
    return 400, "The request is malformed."


def answer(err: ApiError, *, media: bool) -> web.Response:
    """The error in its dialect's shape; the connection closes after it (the parser's state is unknown)."""
    response = web.json_response(media_body(err) if media else encode_body(err), status=err.status)
    response.force_close()
    return response


class GatewayProtocol(RequestHandler):
    """aiohttp's RequestHandler, with refusals in the API's shapes and time limits on heads and bodies."""

    __slots__ = (
        "_limits",
        "_timer",
        "_head",
        "_head_open",
        "_head_started",
        "_line_len",
        "_line_done",
        "_inbound",
        "_inbound_media",
        "_body_seen",
        "_refused",
    )

    def __init__(self, manager: web.Server, *, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._limits = limits
        self._timer: asyncio.TimerHandle | None = None
        self._head = b""  # the first bytes of the head now arriving (no leading CRLF)
        self._head_open = False  # a head is arriving (or, on a new connection, is awaited)
        self._head_started = 0.0
        self._line_len = 0  # bytes of its request line so far
        self._line_done = False
        self._inbound: StreamReader | None = None  # the body of the latest head parsed
        self._inbound_media = False
        self._body_seen = 0.0
        self._refused: dict[int, tuple[int, str, bool]] = {}  # status, words, media, by id() of the parser's error

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._open_head(self._loop.time())  # a connection that never sends a byte counts as a head that stalls

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._inbound = None  # it refers back to this protocol
        super().connection_lost(exc)

    def resume_reading(self, resume_parser: bool = True) -> None:
        self._body_seen = self._loop.time()  # while paused the server was not reading: no time counts against it
        super().resume_reading(resume_parser)

    def data_received(self, data: bytes) -> None:
        if data and not (self._force_close or self._close or self._upgraded):
            self._note(data)
        phase = "head" if self._head_open else "body" if self._receiving() else ""
        count = self._request_count
        super().data_received(data)  # b"" too: aiohttp reparses what it buffered, which may complete heads
        if self._request_count > count:
            self._parsed(self._request_count - count, phase)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's answer to a parser error or an exception past every middleware, in the API's shapes.

        Nothing of the request is logged for a parser error: the exception's text quotes the bytes refused."""
        if request.writer.output_size > 0:  # as aiohttp: a response is under way, only closing is left
            raise ConnectionError("Response is sent already, cannot send another response with the error message")
        if isinstance(exc, HttpProcessingError):
            status, words, media = self._refused.pop(id(exc), (*refusal(exc), False))
            # Non-HTTP bytes (TLS on the HTTP port, scanners) are the internet's noise: at debug, as aiohttp does.
            level = logging.DEBUG if isinstance(exc, BadHttpMethod) else logging.INFO
            logger.log(level, "refused a request from %s: %d (%s)", request.remote, status, type(exc).__name__)
            return answer(ApiError(status, R.REQUEST_INVALID, words), media=media)
        # Past the error middleware (which answers every Exception): a 504 is a handler's asyncio.TimeoutError.
        logger.error("unhandled error in %s %s: %d", request.method, request.path, status, exc_info=exc)
        err = ApiError(500, R.INTERNAL, "The server could not complete the request.")
        if status == 504:
            err = ApiError(504, R.DEADLINE_EXCEEDED, "The request timed out.")
        return answer(err, media=isinstance(request, web.Request) and is_media(request))

    def _receiving(self) -> bool:
        """A body is still due for the latest head."""
        inbound = self._inbound
        return inbound is not None and not inbound.is_eof() and inbound.exception() is None

    def _open_head(self, now: float) -> None:
        self._head_open, self._head_started = True, now
        self._head, self._line_len, self._line_done = b"", 0, False
        self._arm(now + self._limits.header_timeout)

    def _note(self, data: bytes) -> None:
        """Before the parser sees `data`: the head's first bytes and the clock of whichever part is arriving."""
        now = self._loop.time()
        if not self._head_open and self._receiving():
            self._body_seen = now
            return
        if not self._head_open or not self._head:
            data = data.lstrip(b"\r\n")  # blank lines before a request line are allowed (RFC 9112 2.2)
            if not data:
                return
            if not self._head_open:
                self._open_head(now)
        if len(self._head) < _SNIFF:
            self._head += data[: _SNIFF - len(self._head)]
        if not self._line_done:
            end = data.find(b"\n")
            self._line_len += len(data) if end < 0 else end
            self._line_done = end >= 0

    def _parsed(self, count: int, phase: str) -> None:
        """After the parser: `count` new heads (or refusals) at the end of the queue."""
        now = self._loop.time()
        first = True
        for msg, payload in itertools.islice(self._messages, len(self._messages) - count, None):
            if isinstance(msg, RawRequestMessage):
                self._head_open, self._head, self._line_len = False, b"", 0
                self._inbound = payload
                self._inbound_media = msg.url.path == "/api/v1" or msg.url.path.startswith("/api/v1/")
                if not payload.is_eof():
                    self._body_seen = now
                    self._arm(now + self._limits.body_idle_timeout)
            else:
                # Whose error it is: the head that was arriving, the body that was (unless it ended in this very
                # chunk), or - behind another request in the same chunk - unknown: the Encode shape then.
                head = first and phase == "head"
                media = _MEDIA_LINE.match(self._head) is not None if head else False
                if first and phase == "body":
                    media = self._inbound_media and self._receiving()
                if isinstance(msg.exc, HttpProcessingError):  # all aiohttp queues as a refusal
                    too_long = head and self._line_len > self.max_line_size
                    status, words = refusal(msg.exc, line_too_long=too_long, in_headers=head and self._line_done)
                    self._refused[id(msg.exc)] = (status, words, media)
            first = False

    def _arm(self, when: float) -> None:
        """One timer per connection, at the earliest deadline; `_expire` sets the next one."""
        if self._timer is not None:
            if self._timer.when() <= when:
                return
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._expire)

    def _expire(self) -> None:
        self._timer = None
        if self._force_close or self.transport is None:
            return
        now = self._loop.time()
        if self._head_open:
            due = self._head_started + self._limits.header_timeout
            if now < due:
                self._arm(due)
            elif self._request_in_progress or self._messages:
                # A head pipelined behind a request being served: it is not the client's turn yet.
                self._arm(now + self._limits.header_timeout)
            else:
                timeout = self._limits.header_timeout
                logger.info("closed a connection from %s: no complete request head in %gs", self._peer(), timeout)
                self.force_close()
            return
        if not self._receiving():
            return
        if self._reading_paused:  # the body's buffer is full (flow control): the server is the slow one
            self._body_seen = now
        due = self._body_seen + self._limits.body_idle_timeout
        if now < due:
            self._arm(due)
            return
        assert self._inbound is not None
        self._stalled(self._inbound)

    def _stalled(self, inbound: StreamReader) -> None:
        timeout = self._limits.body_idle_timeout
        logger.info("a request body from %s stalled for %gs", self._peer(), timeout)
        if self._current_request is None:  # no handler is reading it (it answered already): just close
            inbound.feed_eof()
            self.force_close()
            return
        # The handler's next read raises, and the error middleware answers 408 in its route's dialect.
        inbound.set_exception(BodyTimeout(reason=f"No part of the request body arrived for {timeout:g} s."))
        self._lingering_time = 0.0  # the rest of the body is not coming: do not wait for it after the answer
        self.close()  # ...and no further request on this connection

    def _peer(self) -> str:
        peer = self.peername
        return str(peer[0]) if isinstance(peer, tuple) else str(peer)


class GatewayServer(web.Server):
    """aiohttp's Server, making a GatewayProtocol for each connection."""

    def __init__(self, handler: Handler, *, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._limits = limits

    def __call__(self) -> RequestHandler:
        return GatewayProtocol(self, loop=self._loop, limits=self._limits, **self._kwargs)


class GatewayRunner(web.AppRunner):
    """web.AppRunner serving through GatewayProtocol; other keyword arguments (keepalive_timeout, access_log,
    shutdown_timeout, ...) as AppRunner's."""

    __slots__ = ("_limits",)

    def __init__(self, app: web.Application, *, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._limits = limits

    async def _make_server(self) -> web.Server:
        # aiohttp's own build (the app's startup and freeze, its handler_args), re-made to make our protocol.
        server = await super()._make_server()
        return GatewayServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            limits=self._limits,
            **server._kwargs,
        )
