"""A seekable, read-only file over HTTP Range requests, for PyAV to probe a source remotely.

PyAV reads synchronously (from a worker thread); each missing block is fetched with the shared
aiohttp session on the event loop, so the same timeouts and address checks apply as to any
other source request. Only what the demuxer asks for is read: for an MP4, its header and index.
"""

from __future__ import annotations

import asyncio
import io
from collections import OrderedDict

import aiohttp
from yarl import URL

from services.common.errors import R
from services.common.http_source import SourceError, parse_source_url

_BLOCK = 256 * 1024
_CACHED_BLOCKS = 32


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
        async with session.get(parse_source_url(url), headers={"Range": "bytes=0-0"}) as resp:
            total = resp.headers.get("Content-Range", "").rpartition("/")[2]
            if resp.status != 206 or not total.isdigit():
                raise RangeUnsupported(url)
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
