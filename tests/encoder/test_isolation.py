"""Encodes in a child process: outcome, thumbnails, interruption, the watchdog, a dying child."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from pathlib import Path

import av
import pytest

from services.common.errors import PermanentError, R
from services.encoder.isolation import EncodeJob, EncoderCrashed, run_isolated
from services.encoder.pipeline import Interrupted
from tests.encoder.helpers import BASE
from tests.media import clip


def job(tmp_path: Path, src: Path, **thumbs: str) -> EncodeJob:
    return EncodeJob(
        source=src,
        output=tmp_path / "out.mp4",
        thumbnails={size: tmp_path / name for size, name in thumbs.items()},
        spec=BASE,
        poster_at=None,
        workdir=tmp_path,
    )


async def test_outcome_with_probes_and_poster_sizes(tmp_path: Path) -> None:
    src = clip(tmp_path / "src.mp4", width=1280, height=720, seconds=1.0)
    progress: list[float] = []
    outcome = await run_isolated(
        job(tmp_path, src, small="s.jpg", medium="m.jpg", large="l.jpg"),
        on_progress=progress.append,
        on_log=lambda *_: None,
        interrupt=asyncio.Event(),
        watchdog=30,
    )
    assert (outcome.source_probe.width, outcome.output_probe.height) == (1280, 480)
    assert outcome.peak_rss_kb > 0 and progress
    for name, width in (("s.jpg", 160), ("m.jpg", 320), ("l.jpg", 640)):
        with av.open(str(tmp_path / name)) as image:
            frame = next(image.decode(video=0))
        assert (frame.width, frame.height) == (width, width * 9 // 16)


def _encode_children() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "vidkiln-encode"]


async def test_an_interrupt_stops_the_encode_between_frames(tmp_path: Path) -> None:
    src = clip(tmp_path / "src.mp4", width=640, height=360, seconds=8.0, audio_tracks=0)
    interrupt = asyncio.Event()
    encode = asyncio.create_task(
        run_isolated(
            job(tmp_path, src),
            on_progress=lambda _: interrupt.set(),
            on_log=lambda *_: None,
            interrupt=interrupt,
            watchdog=30,
        )
    )
    with pytest.raises(Interrupted):
        await asyncio.wait_for(encode, 30)
    assert _encode_children() == []


async def test_the_watchdog_ends_an_encode_that_hangs(tmp_path: Path) -> None:
    fifo = tmp_path / "never.mp4"
    os.mkfifo(fifo)  # nobody writes: FFmpeg blocks opening it, deep inside C code
    started = time.monotonic()
    with pytest.raises(PermanentError) as stuck:
        await run_isolated(
            job(tmp_path, fifo),
            on_progress=lambda _: None,
            on_log=lambda *_: None,
            interrupt=asyncio.Event(),
            watchdog=1.0,
        )
    assert stuck.value.reason == R.ENCODE_TIMEOUT
    assert "no progress for 1 seconds" in stuck.value.message
    assert time.monotonic() - started < 15  # ended, not waited out
    assert _encode_children() == []


async def test_a_child_that_dies_is_reported_as_a_crash(tmp_path: Path) -> None:
    src = clip(tmp_path / "src.mp4", width=640, height=360, seconds=8.0, audio_tracks=0)

    def kill_child(_percent: float) -> None:
        for child in _encode_children():
            if child.pid:
                os.kill(child.pid, 9)

    with pytest.raises(EncoderCrashed) as crashed:
        await run_isolated(
            job(tmp_path, src), on_progress=kill_child, on_log=lambda *_: None, interrupt=asyncio.Event(), watchdog=30
        )
    assert "died" in str(crashed.value) and "-9" in str(crashed.value)
