"""Each encode runs in its own process, forked from a server that has PyAV loaded.

Why a process and not a thread: a watchdog can always end it (a thread stuck inside FFmpeg
cannot be stopped), a crash or leak in a codec takes only that encode down, and the worker's
event loop keeps heartbeats and progress flowing. The child reports over a pipe: progress, log
entries, heartbeats (at least once a second while it reads, decodes, encodes or flushes), and finally
its outcome. Every message is a sign of life for the task's lease; silence for `watchdog` seconds ends
the child.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import resource
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protos.common.v1 import media_pb2
from services.common.errors import PermanentError, R
from services.common.probe import probe_file
from services.encoder.pipeline import EncodeSpec, Interrupted, TranscodeResult, transcode
from services.encoder.thumbnails import make_thumbnails, poster_time


@dataclass(frozen=True)
class EncodeJob:
    source: Path
    output: Path
    thumbnails: Mapping[str, Path]  # size -> where to write its JPEG
    spec: EncodeSpec
    poster_at: float | None
    workdir: Path


@dataclass(frozen=True)
class Outcome:
    result: TranscodeResult
    source_probe: media_pb2.MediaProbe
    output_probe: media_pb2.MediaProbe
    peak_rss_kb: int
    thumbnails: tuple[str, ...]  # the sizes whose JPEG was written


class EncoderCrashed(Exception):
    """The encoding process died or raised something unexpected: worth another attempt."""


class _PipeReporter:
    """The child's Reporter: every call is one message to the parent."""

    def __init__(self, conn: multiprocessing.connection.Connection) -> None:
        self._conn = conn

    def progress(self, percent: float) -> None:
        self._conn.send(("progress", percent))

    def log(self, level: str, message: str, details: dict[str, Any] | None = None) -> None:
        self._conn.send(("log", level, message, details))

    def beat(self) -> None:
        self._conn.send(("beat",))


class _StopFlag:
    """Set by the parent, read by the child between packets: one shared byte and no lock. (A multiprocessing
    Event takes a lock at every check; a child frozen or killed while holding it would block the parent's
    event loop for good on the `set()` that ends it.)"""

    def __init__(self, ctx: multiprocessing.context.BaseContext) -> None:
        self._value = ctx.RawValue(ctypes.c_bool, False)

    def set(self) -> None:
        self._value.value = True

    def is_set(self) -> bool:
        return bool(self._value.value)


def _child(job: EncodeJob, conn: multiprocessing.connection.Connection, stop: _StopFlag) -> None:
    """Runs in the child: the work, then its outcome as the last message (if anyone still listens)."""
    reporter = _PipeReporter(conn)
    try:
        reporter.beat()  # started: the parent hears from the child before it opens the source
    except OSError:
        return  # the parent has gone already
    message = _work(job, reporter, stop)
    try:
        conn.send(message)
    except OSError:
        pass  # the parent has gone (interrupted, or it died): nobody is waiting for the outcome
    finally:
        conn.close()


def _work(job: EncodeJob, reporter: _PipeReporter, stop: _StopFlag) -> tuple[Any, ...]:
    """Probe, transcode, probe the output, poster frames; the outcome as a message."""
    try:
        result, source_probe = transcode(
            job.source, job.output, job.spec, report=reporter, stop=stop, workdir=job.workdir
        )
        reporter.beat()
        output_probe = probe_file(job.output)
        made: tuple[str, ...] = ()
        if job.thumbnails:
            reporter.beat()
            try:
                make_thumbnails(job.output, poster_time(output_probe.duration_sec, job.poster_at), job.thumbnails)
                made = tuple(job.thumbnails)
            except Exception as exc:  # noqa: BLE001 - a missing poster must not cost the encode
                reporter.log("WARNING", "No poster frame could be made.", {"error": str(exc)})
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return ("done", Outcome(result, source_probe, output_probe, peak, made))
    except Interrupted:
        return ("interrupted",)
    except PermanentError as exc:
        return ("failed", int(exc.reason), exc.message)
    except BaseException as exc:  # noqa: BLE001 - anything else is reported, then the child ends
        # Includes BrokenPipeError from a report: the parent died, and the child ends here too.
        return ("crashed", f"{type(exc).__name__}: {exc}")


_PRELOAD = ["services.encoder.isolation"]


def context() -> multiprocessing.context.ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def warm_up() -> None:
    """Starts the fork server now (it imports PyAV once), not at the first encode."""
    context()
    multiprocessing.forkserver.ensure_running()


async def run_isolated(
    job: EncodeJob,
    *,
    on_progress: Callable[[float], None],
    on_log: Callable[[str, str, dict[str, Any] | None], None],
    interrupt: asyncio.Event,
    watchdog: float,
    grace: float = 1.0,
    on_alive: Callable[[], None] = lambda: None,
) -> Outcome:
    """Runs the encode in a child; Interrupted when `interrupt` is set, PermanentError(ENCODE_TIMEOUT)
    when the child says nothing for `watchdog` seconds, EncoderCrashed if it dies. `on_alive` hears of
    every message (the task's progress)."""
    ctx = context()
    receiver, sender = ctx.Pipe(duplex=False)
    stop = _StopFlag(ctx)
    process = ctx.Process(target=_child, args=(job, sender, stop), daemon=True, name="vidkiln-encode")
    process.start()
    sender.close()
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

    def readable() -> None:
        try:
            inbox.put_nowait(receiver.recv())
        except (EOFError, OSError):
            loop.remove_reader(receiver.fileno())
            inbox.put_nowait(("eof",))

    loop.add_reader(receiver.fileno(), readable)
    interrupted = asyncio.create_task(interrupt.wait())
    try:
        while True:
            message = asyncio.create_task(inbox.get())
            done, _ = await asyncio.wait({message, interrupted}, timeout=watchdog, return_when=asyncio.FIRST_COMPLETED)
            if message not in done:
                message.cancel()
                if interrupted in done:
                    raise Interrupted()
                raise PermanentError(
                    f"The encode made no progress for {watchdog:.0f} seconds and was stopped.",
                    reason=R.ENCODE_TIMEOUT,
                )
            kind, *rest = message.result()
            if kind != "eof":
                on_alive()
            if kind == "beat":
                continue
            if kind == "progress":
                on_progress(rest[0])
            elif kind == "log":
                on_log(rest[0], rest[1], rest[2])
            elif kind == "done":
                outcome: Outcome = rest[0]
                return outcome
            elif kind == "failed":
                raise PermanentError(rest[1], reason=rest[0])
            elif kind == "interrupted":
                raise Interrupted()
            elif kind == "crashed":
                raise EncoderCrashed(rest[0])
            elif kind == "eof":
                await asyncio.to_thread(process.join, 5)
                raise EncoderCrashed(f"the encoding process died (exit code {process.exitcode})")
    finally:
        interrupted.cancel()
        loop.remove_reader(receiver.fileno())
        receiver.close()
        await _end(process, stop, grace)


async def _end(process: multiprocessing.process.BaseProcess, stop: _StopFlag, grace: float) -> None:
    """Asks the child to stop between frames; kills it if it has not within `grace` seconds."""
    if process.is_alive():
        stop.set()
        await asyncio.to_thread(process.join, grace)
    if process.is_alive():
        process.kill()
        await asyncio.to_thread(process.join, 5)
    process.close()
