"""Process lifecycle: start owner-only, run a service until SIGTERM or SIGINT, then let it shut down cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from services.common.config import BaseServiceSettings, secure_data_dir

UMASK = 0o077  # files 0600, directories 0700: SQLite and its -wal/-shm, blobs, NATS's store, whatever a library makes


def prepare_process(data_dir: Path | None = None) -> Path:
    """What every vidkiln process does before it creates anything: umask 0o077, then the data directory created or
    tightened (secure_data_dir). data_dir: default the one VIDKILN_DATA_DIR names. Returns it, resolved."""
    os.umask(UMASK)
    return secure_data_dir(data_dir if data_dir is not None else BaseServiceSettings().data_dir)


def run_until_signal(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Prepares the process (prepare_process), then runs main(stop) on a new loop; SIGTERM/SIGINT set `stop` and
    main winds down."""
    prepare_process()

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())


async def until_stopped(stop: asyncio.Event, tasks: Sequence[asyncio.Task[None]]) -> None:
    """Returns once `stop` is set; if a background task ends first, sets stop and raises its error.

    A consumer loop that dies must take its process down, so the supervisor restarts it.
    """
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    for task in done:
        if task is waiter or task.cancelled():
            continue
        error = task.exception()
        if error is not None or not stop.is_set():
            # A task that stopped on its own (not because stop was set) is a failure too.
            stop.set()
            raise RuntimeError(f"background task {task.get_name()} ended") from error


async def finish(tasks: Sequence[asyncio.Task[None]], timeout: float = 10.0) -> None:
    """Waits for tasks that were told to stop; cancels whatever is still running after timeout."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
