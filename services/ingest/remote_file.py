"""Remote sources as file objects for PyAV to probe: seekable over Range requests, else a stream.

PyAV reads synchronously (from a worker thread); each missing block is fetched with the shared
aiohttp session on the event loop, so the same timeouts and address checks apply as to any
other source request. With Range, only what the demuxer asks for is read: for an MP4, its header
and index. Without, the body is read once from its start (StreamedBody, probe_unranged).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from typing import IO, Any

import aiohttp
from yarl import URL

from protos.common.v1 import media_pb2
from services.common.errors import PermanentError, R
from services.common.http_source import SourceError, parse_source_url
from services.common.probe import probe_stream

_BLOCK = 256 * 1024
_CACHED_BLOCKS = 32
_MIB = 1024**2


class RangeUnsupported(Exception):
    """The server does not answer Range requests: the source cannot be probed remotely."""


class RemoteFile(io.RawIOBase):
    def __init__(self, loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession, url: str, size: int) -> None:
        super().__init__()
        self._loop, self._session, self._url, self._size = loop, session, parse_source_url(url), size
        self._pos = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self.requests = 0

    @classmethod
    async def open(cls, session: aiohttp.ClientSession, url: str) -> RemoteFile:
        """Learns the size with a one-byte ranged GET (which also proves ranges work)."""
        try:
            async with session.get(parse_source_url(url), headers={"Range": "bytes=0-0"}) as resp:
                total = resp.headers.get("Content-Range", "").rpartition("/")[2]
                if resp.status >= 400:  # an error, not a server that ignores Range: reading it whole would fail too
                    raise SourceError(
                        f"The source server answered HTTP {resp.status}.", reason=R.SOURCE_UNREACHABLE, transient=True
                    )
                if resp.status != 206 or not total.isdigit():
                    raise RangeUnsupported(url)
        except aiohttp.ClientError as exc:  # reachable a moment ago, when it was inspected
            raise SourceError("Reading the source failed.", reason=R.SOURCE_UNREACHABLE, transient=True) from exc
        return cls(asyncio.get_running_loop(), session, url, int(total))

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._size:
            return 0
        index, start = divmod(self._pos, _BLOCK)
        block = self._block(index)
        count = min(len(buffer), len(block) - start)
        buffer[:count] = block[start : start + count]
        self._pos += count
        return count

    def _block(self, index: int) -> bytes:
        if index in self._blocks:
            self._blocks.move_to_end(index)
            return self._blocks[index]
        first = index * _BLOCK
        last = min(first + _BLOCK, self._size) - 1
        data = asyncio.run_coroutine_threadsafe(self._fetch(first, last), self._loop).result(timeout=60)
        self._blocks[index] = data
        if len(self._blocks) > _CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        return data

    async def _fetch(self, first: int, last: int) -> bytes:
        self.requests += 1
        try:
            async with self._session.get(URL(self._url), headers={"Range": f"bytes={first}-{last}"}) as resp:
                if resp.status != 206:
                    raise RangeUnsupported(str(self._url))
                return await resp.read()
        except aiohttp.ClientError as exc:
            raise SourceError("Reading the source failed.", reason=R.SOURCE_UNREACHABLE, transient=True) from exc


class StreamedBody(io.RawIOBase):
    """A response body read once, from its start, for PyAV to probe a source whose server ignores Range.

    Not seekable, so FFmpeg reads it as a pipe: most containers (MP4 indexed at its start, MKV, WebM,
    MPEG-TS) tell what they hold from their first kilobytes, and an MP4 indexed at its end is read
    through (and discarded) up to its index. With a `spool`, every byte read is also written there, so
    the whole body can be probed as a seekable file. Reading stops at `max_bytes` or at `deadline`
    (time.monotonic()); the body is never held in memory, only the chunk in flight.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        content: aiohttp.StreamReader,
        *,
        max_bytes: int,
        deadline: float,
        spool: IO[bytes] | None = None,
    ) -> None:
        super().__init__()
        self._loop, self._content, self._spool = loop, content, spool
        self._max_bytes, self._deadline = max_bytes, deadline
        self.received = 0
        self.ended = False  # the whole body was read
        self.over_limit = False  # stopped at max_bytes with more to come
        self.timed_out = False  # stopped at the deadline

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._next(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _next(self, size: int) -> bytes:
        """Up to `size` more bytes; b"" at the end of the body or once a limit stopped the reading."""
        if self.ended or self.over_limit or self.timed_out:
            return b""
        left = self._deadline - time.monotonic()
        if left <= 0:
            self.timed_out = True
            return b""
        # One byte over what may still be read tells whether more was coming at the limit.
        read = self._content.read(min(size, self._max_bytes - self.received + 1))
        future = asyncio.run_coroutine_threadsafe(_guarded(read), self._loop)
        try:
            data = future.result(timeout=left)
        except concurrent.futures.TimeoutError:
            future.cancel()  # the read is abandoned on the loop too; nothing more is read
            self.timed_out = True
            return b""
        if not data:
            self.ended = True
        elif self.received + len(data) > self._max_bytes:
            self.over_limit = True
            return b""
        self.received += len(data)
        if self._spool is not None:
            self._spool.write(data)
        return data

    def check(self) -> None:
        """Raises SourceError when a limit stopped the reading: that, not what FFmpeg made of a cut-off
        stream, is why the probe failed."""
        if self.over_limit:
            raise SourceError(
                "The source server does not answer ranged requests, and this source can only be probed whole "
                f"(an MP4 indexed at its end, say); it is larger than the {_size_text(self._max_bytes)} a probe "
                "reads. Serve it with Range support or its index first (faststart), or upload it.",
                reason=R.FILE_TOO_LARGE,
            )
        if self.timed_out:
            raise SourceError(
                "The source server does not answer ranged requests, and reading enough of this source to probe "
                "it took too long. Serve it with Range support or its index first (faststart), or upload it.",
                reason=R.SOURCE_UNREACHABLE,
                transient=True,
            )

    def probe_head(self, size: int) -> media_pb2.MediaProbe | None:
        """Runs in a worker thread: the probe from the body read as a stream; None when only the whole
        file will tell (no duration in the head, as in MPEG-TS, or a demuxer that needed to seek back)."""
        try:
            probe = probe_stream(self, size)
        except PermanentError as exc:
            self.check()
            if exc.reason == R.PROBE_FAILED and self.ended:
                return None  # read to its end and still unreadable as a stream: a file may seek
            raise  # not media (FFmpeg gave up before the end), or no video in it
        if probe.duration_sec > 0:
            return probe
        self.check()
        return None

    def probe_spooled(self) -> media_pb2.MediaProbe:
        """Runs in a worker thread: reads the whole body into the spool, then probes that as a file."""
        assert self._spool is not None
        while self._next(_BLOCK):
            pass
        self.check()
        self._spool.flush()
        self._spool.seek(0)
        return probe_stream(self._spool, self.received)


async def _guarded(read: Coroutine[Any, Any, bytes]) -> bytes:
    """A read of the body, its connection errors as SourceError (PyAV passes them on from the read)."""
    try:
        return await read
    except aiohttp.ClientError as exc:
        raise SourceError("Reading the source failed.", reason=R.SOURCE_UNREACHABLE, transient=True) from exc


def _size_text(count: int) -> str:
    return f"{count // _MIB} MiB" if count % _MIB == 0 else f"{count} bytes"


@asynccontextmanager
async def _body(session: aiohttp.ClientSession, url: str) -> AsyncIterator[aiohttp.StreamReader]:
    """The body of a plain GET (redirects followed, through the guarded session)."""
    async with session.get(parse_source_url(url)) as resp:
        if resp.status >= 400:
            raise SourceError(f"The source server answered HTTP {resp.status}.", reason=R.SOURCE_UNREACHABLE)
        yield resp.content


async def probe_unranged(
    session: aiohttp.ClientSession, url: str, *, size: int, max_bytes: int, seconds: float, executor: Executor
) -> media_pb2.MediaProbe:
    """The probe of a source whose server does not answer Range requests, in `executor`'s threads.

    The body is streamed from its start; only when its head does not tell is it read again, whole,
    into a scratch file (deleted after) to probe as a file. Both reads together stop at `max_bytes`
    each and `seconds` in all, with a SourceError saying so.
    """
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + seconds
    try:
        async with _body(session, url) as content:
            head = StreamedBody(loop, content, max_bytes=max_bytes, deadline=deadline)
            probe = await loop.run_in_executor(executor, head.probe_head, size)
        if probe is not None:
            return probe
        async with _body(session, url) as content:
            with tempfile.TemporaryFile(prefix="vidkiln-probe-") as spool:
                whole = StreamedBody(loop, content, max_bytes=max_bytes, deadline=deadline, spool=spool)
                return await loop.run_in_executor(executor, whole.probe_spooled)
    except aiohttp.ClientError as exc:
        raise SourceError("The source could not be reached.", reason=R.SOURCE_UNREACHABLE, transient=True) from exc
    except TimeoutError as exc:
        raise SourceError("The source did not answer in time.", reason=R.SOURCE_UNREACHABLE, transient=True) from exc
