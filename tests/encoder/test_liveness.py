"""A task's liveness: steps ended when silent, kept while they move, interrupted at shutdown; progress read
from files; an encode child frozen mid-encode ended without ever blocking the worker's event loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
from pathlib import Path

import pytest

from services.common.errors import PermanentError, R, Unavailable
from services.encoder.isolation import EncodeJob, run_isolated
from services.encoder.liveness import Step, Watch, in_thread, seconds
from services.encoder.pipeline import Interrupted
from services.encoder.signs import read_positions, sizes
from tests.encoder.helpers import BASE
from tests.media import clip


class Lease:
    """Counts what the watch renews."""

    def __init__(self) -> None:
        self.renewals = 0

    def renew(self) -> None:
        self.renewals += 1


def stalled_step(deadline: float = 0.5, *, interruptible: bool = True) -> Step:
    return Step(
        "test",
        deadline,
        lambda d: Unavailable(f"silent for {seconds(d)}", reason=R.OUTPUT_WRITE_FAILED),
        interruptible=interruptible,
    )


async def test_a_silent_step_is_ended_with_its_error_and_its_work_cancelled() -> None:
    lease, cancelled = Lease(), asyncio.Event()

    async def silent() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    watch = Watch(lease.renew, asyncio.Event())
    with pytest.raises(Unavailable) as ended:
        await watch.run(stalled_step(), silent())
    assert ended.value.message == "silent for 0.5 seconds" and ended.value.reason == R.OUTPUT_WRITE_FAILED
    assert cancelled.is_set()
    assert lease.renewals == 1  # the step's start, nothing after


async def test_a_step_whose_file_grows_outlives_its_deadline_and_renews_the_lease(tmp_path: Path) -> None:
    lease = Lease()
    target = tmp_path / "download"

    def slow_download() -> str:
        with open(target, "wb") as out:
            for _ in range(12):  # 1.2 s in all, never silent for the 0.5 s deadline
                out.write(b"x" * 1000)
                out.flush()
                threading.Event().wait(0.1)
        return "done"

    watch = Watch(lease.renew, asyncio.Event())
    assert await watch.run(stalled_step(), in_thread(slow_download), sizes(target)) == "done"
    assert lease.renewals > 2


async def test_a_call_stuck_in_its_thread_holds_neither_the_task_nor_the_default_executor() -> None:
    release = threading.Event()
    watch = Watch(lambda: None, asyncio.Event())
    try:
        with pytest.raises(Unavailable):
            await watch.run(stalled_step(0.3), in_thread(release.wait))
        # The default executor (process joins, clean-up) is free although the stuck call still runs.
        assert await asyncio.to_thread(lambda: "free") == "free"
    finally:
        release.set()


async def test_shutdown_interrupts_a_long_step_and_lets_a_short_one_finish() -> None:
    stop = asyncio.Event()
    watch = Watch(lambda: None, stop)
    stop.set()
    with pytest.raises(Interrupted):
        await watch.run(stalled_step(5.0), asyncio.Event().wait())
    assert await watch.run(stalled_step(5.0, interruptible=False), asyncio.sleep(0.1, "committed")) == "committed"


async def test_a_readers_position_in_a_file_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "output.mp4"
    path.write_bytes(b"x" * 10_000)
    reading = read_positions(path)
    assert reading() == ()
    with open(path, "rb", buffering=0) as upload:
        upload.read(4000)
        assert reading() == (4000,)
        upload.read(4000)
        assert reading() == (8000,)
    assert reading() == ()


def _encode_children() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "vidkiln-encode"]


async def test_a_frozen_child_is_ended_and_the_event_loop_never_blocks(tmp_path: Path) -> None:
    src = clip(tmp_path / "src.mp4", width=640, height=360, seconds=8.0, audio_tracks=0)
    job = EncodeJob(source=src, output=tmp_path / "out.mp4", thumbnails={}, spec=BASE, poster_at=None, workdir=tmp_path)
    alive: list[int] = []
    ticks = 0

    def freeze(_percent: float) -> None:
        for child in _encode_children():
            if child.pid:
                os.kill(child.pid, signal.SIGSTOP)  # mid-encode: it may hold whatever it holds

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    counting = asyncio.create_task(ticker())
    try:
        with pytest.raises(PermanentError) as stuck:
            await run_isolated(
                job,
                on_progress=freeze,
                on_log=lambda *_: None,
                on_alive=lambda: alive.append(1),
                interrupt=asyncio.Event(),
                watchdog=1.0,
            )
        before = ticks
        await asyncio.sleep(0.3)
    finally:
        counting.cancel()
    assert stuck.value.reason == R.ENCODE_TIMEOUT
    assert alive  # every message from the child was a sign of life
    assert ticks > before > 0  # the loop ran all along, and still runs
    assert _encode_children() == []
