"""Serving a blob from a store without local files (the S3 blob store) as aiohttp's FileResponse serves a file.

The same conditional requests (If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, If-Range), the same
single Range (206 with Content-Range, 416 past the end) and HEAD; the bytes stream through the gateway from one
ranged GET, a chunk at a time (the next read from the store overlaps the write of the last): never the whole blob
in memory. `open` runs in the handler, so a store that fails or lost the blob gets the dialect's error response;
`prepare` only sends.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections.abc import Generator
from datetime import datetime

from aiohttp import hdrs, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.helpers import ETAG_ANY, ETag, must_be_empty_body
from aiohttp.typedefs import LooseHeaders
from aiohttp.web_request import BaseRequest

from services.common.blobstore import BlobInfo, BlobStore
from services.common.errors import DomainError, NotFound, R

logger = logging.getLogger(__name__)

_FALLBACK_TYPE = "application/octet-stream"
_Chunks = Generator[bytes, None, None]


def _etag_match(value: str, etags: tuple[ETag, ...], *, weak: bool) -> bool:
    if len(etags) == 1 and etags[0].value == ETAG_ANY:
        return True
    return any(etag.value == value for etag in etags if weak or not etag.is_weak)


def _next(chunks: _Chunks) -> bytes:
    return next(chunks, b"")


def _close_after(loop: asyncio.AbstractEventLoop, read: asyncio.Future[bytes], chunks: _Chunks) -> None:
    if not read.cancelled():
        read.exception()  # the response is gone already: nobody else will look at how the read ended
    loop.run_in_executor(None, chunks.close)


def _after(mtime: float, moment: datetime | None) -> bool:
    """Modified after `moment` (HTTP dates have whole seconds)."""
    return moment is not None and int(mtime) > moment.timestamp()


class BlobResponse(web.StreamResponse):
    """A blob's bytes (or 206, 304, 412, 416) with ETag, Last-Modified and Accept-Ranges."""

    def __init__(self, blobs: BlobStore, info: BlobInfo, *, headers: LooseHeaders | None = None) -> None:
        super().__init__(headers=headers)
        self._blobs, self._info = blobs, info
        self._etag = info.etag or f"{int(info.mtime * 1e9):x}-{info.size:x}"
        self._chunks: _Chunks | None = None
        self._first = b""

    async def open(self, request: web.Request) -> None:
        """Decides the answer to the request's conditions and Range; for a body, starts reading the blob."""
        size, mtime = self._info.size, self._info.mtime
        if_match, if_none_match = request.if_match, request.if_none_match
        if (if_match is not None and not _etag_match(self._etag, if_match, weak=False)) or (
            if_match is None and _after(mtime, request.if_unmodified_since)
        ):
            self.set_status(web.HTTPPreconditionFailed.status_code)
            self.content_length = 0
            return
        if (if_none_match is not None and _etag_match(self._etag, if_none_match, weak=True)) or (
            if_none_match is None
            and request.if_modified_since is not None
            and not _after(mtime, request.if_modified_since)
        ):
            self.set_status(web.HTTPNotModified.status_code)
            self.etag, self.last_modified = self._etag, mtime
            return
        start, count = 0, size
        if_range = request.if_range
        if if_range is None or not _after(mtime, if_range):
            try:
                wanted = request.http_range
            except ValueError:
                self._unsatisfiable(size)
                return
            if wanted.start is not None:
                if wanted.start < 0 and wanted.stop is None:  # the last -start bytes
                    start = max(size + wanted.start, 0)
                else:
                    start = wanted.start
                count = min(size if wanted.stop is None else wanted.stop, size) - start
                if start >= size:
                    self._unsatisfiable(size)
                    return
                self.set_status(web.HTTPPartialContent.status_code)
                self.headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{start + count - 1}/{size}"
        if hdrs.CONTENT_TYPE not in self.headers:
            self.content_type = mimetypes.guess_type(self._info.key)[0] or _FALLBACK_TYPE
        self.etag, self.last_modified = self._etag, mtime
        self.content_length = count
        self.headers[hdrs.ACCEPT_RANGES] = "bytes"
        if count == 0 or must_be_empty_body(request.method, self.status):
            return
        # The GET goes out now, inside the handler: a store that fails still gets an error response.
        self._chunks = self._blobs.read_chunks(self._info.key, start, count)
        try:
            self._first = await asyncio.to_thread(_next, self._chunks)
        except BaseException:
            await asyncio.to_thread(self._chunks.close)
            self._chunks = None
            raise

    def _unsatisfiable(self, size: int) -> None:
        self.headers[hdrs.CONTENT_RANGE] = f"bytes */{size}"
        self.set_status(web.HTTPRequestRangeNotSatisfiable.status_code)

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        writer = await super().prepare(request)
        chunks, self._chunks = self._chunks, None
        if chunks is None or writer is None:
            return writer
        try:
            await self._send(chunks)
        except DomainError as exc:  # the store failed mid-body: the client sees the connection drop
            logger.warning("The blob %r could not be sent in full: %s", self._info.key, exc.message)
            raise ConnectionResetError("The blob store failed while sending.") from exc
        return writer

    async def _send(self, chunks: _Chunks) -> None:
        """Writes the chunks, reading the next one from the store while the last one is written."""
        loop = asyncio.get_running_loop()
        chunk = self._first
        reading: asyncio.Future[bytes] | None = None
        try:
            while chunk:
                reading = loop.run_in_executor(None, _next, chunks)
                await self.write(chunk)
                chunk, reading = await reading, None
        finally:
            if reading is None or reading.done():
                await asyncio.to_thread(chunks.close)
            else:  # a read is under way in its thread: close the stream once it is done
                reading.add_done_callback(lambda done: _close_after(loop, done, chunks))


async def serve_stored(request: web.Request, blobs: BlobStore, key: str, headers: dict[str, str]) -> web.StreamResponse:
    """A BlobResponse for the key, its conditions and Range decided; NotFound when the store has no such blob."""
    try:
        info = await asyncio.to_thread(blobs.stat, key)
    except ValueError as exc:
        raise NotFound("No such file.", reason=R.FILE_NOT_FOUND) from exc
    if info is None:
        raise NotFound("No such file.", reason=R.FILE_NOT_FOUND)
    response = BlobResponse(blobs, info, headers=headers)
    try:
        await response.open(request)
    except FileNotFoundError as exc:  # deleted since the stat
        raise NotFound("No such file.", reason=R.FILE_NOT_FOUND) from exc
    return response
