"""What the benchmarks share: a platform started with `vidkiln up`, a local source server, free ports."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Running:
    process: asyncio.subprocess.Process
    url: str
    key: str  # the admin's API key
    data_dir: Path


@asynccontextmanager
async def platform(data_dir: Path, **settings: str) -> AsyncIterator[Running]:
    """`vidkiln up` on its own data dir (every service its own process); `settings` are VIDKILN_* values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDKILN_")}
    env |= {"VIDKILN_DATA_DIR": str(data_dir), "VIDKILN_HTTP_PORT": str(free_port())}
    env |= {"VIDKILN_URL_ALLOW": "127.0.0.1"}  # the benchmark's own source server
    env |= {f"VIDKILN_{name.upper()}": value for name, value in settings.items()}
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "vidkiln"),
        "up",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    url = key = ""
    try:
        while not key:
            line = (await asyncio.wait_for(proc.stdout.readline(), 90)).decode()
            if not line:
                raise RuntimeError("vidkiln up exited")
            if m := re.match(r"vidkiln is up: (\S+)", line):
                url = m.group(1)
            if m := re.search(r"(cvr_\S+)", line):
                key = m.group(1)
        yield Running(proc, url, key, data_dir)
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


@asynccontextmanager
async def serving(root: Path) -> AsyncIterator[str]:
    """A static file server for sources: the base URL of `root`."""
    app = web.Application()
    app.router.add_static("/", root)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
