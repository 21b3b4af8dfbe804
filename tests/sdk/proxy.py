"""A TCP proxy in front of the gateway that loses answers: the request reaches the gateway, its answer never the
client (a dropped connection, as a load balancer or a flaky network gives)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class LossyProxy:
    """Forwards every connection to `upstream`; the first `drops` answers are read and thrown away."""

    upstream_port: int
    drops: int = 1
    requests: list[bytes] = field(default_factory=list)  # what each connection sent first
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        drop = self.drops > 0
        self.drops -= int(drop)
        first = await reader.read(65536)
        self.requests.append(first)
        up_writer.write(first)
        await up_writer.drain()
        pumping = asyncio.create_task(self._pump(reader, up_writer, close=True))
        try:
            if drop:
                await up_reader.read(65536)  # the gateway answered: the client never hears it
            else:
                await self._pump(up_reader, writer)
        finally:
            pumping.cancel()
            await asyncio.gather(pumping, return_exceptions=True)
            for w in (writer, up_writer):
                w.close()
                with contextlib.suppress(OSError):
                    await w.wait_closed()

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, close: bool = False) -> None:
        """Copies until `source` ends; `close`: then closes `sink` too (the client left: so does the gateway)."""
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        if close:
            sink.close()
