"""Liveness of one task: every step must show progress within its deadline, and only progress renews the lease.

A task runs as steps (download, encode, store, deliver, publish). Each step runs under the task's Watch:
progress is whatever can be observed of it (bytes arriving or leaving, a message from the encode child, a
step finishing), reported by the step itself or read by a probe every poll. A step silent for its deadline
is cancelled and fails with its own error (a stable reason and a message for the job); shutdown
interrupts any step. Blocking calls run in threads of their own (`in_thread`): a call that never returns
(a storage endpoint that accepts and never answers) cannot be stopped, but it then holds only its thread,
never the task or the default executor that other tasks need.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from services.encoder.pipeline import Interrupted

logger = logging.getLogger(__name__)

T = TypeVar("T")
Probe = Callable[[], Hashable]  # a reading that changes while a step moves (bytes written, a read position)

_POLL = 0.25  # seconds between probe readings
_GRACE = 10.0  # seconds a cancelled step may take to clean up (an encode child is ended in that time)


@dataclass(frozen=True)
class Step:
    """A step of a task and what its silence means."""

    name: str
    deadline: float  # seconds it may go without progress
    stalled: Callable[[float], Exception]  # the error when it did, given the deadline
    interruptible: bool = True  # False: short steps (a publish, a commit) finish even while the worker stops


class Watch:
    """The liveness of one task: `progress()` from anything that moves, `run()` for each step."""

    def __init__(self, renew: Callable[[], None], stop: asyncio.Event) -> None:
        self._renew = renew  # the lease: only progress renews it
        self._stop = stop
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()

    def progress(self) -> None:
        self._last = self._loop.time()
        self._renew()

    async def run(self, step: Step, work: Awaitable[T], *probes: Probe) -> T:
        """The work's result; step.stalled(...) when neither it nor a probe moved for step.deadline seconds,
        Interrupted when the worker stops. Either way the work is cancelled."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self._stop.wait() if step.interruptible else asyncio.Event().wait())
        readings = [probe() for probe in probes]
        self.progress()  # the step before this one finished
        try:
            while True:
                poll = min(_POLL, step.deadline / 4)
                await asyncio.wait({task, stopping}, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
                if task.done():
                    self.progress()
                    return task.result()
                if stopping.done():
                    raise Interrupted()
                now = [probe() for probe in probes]
                if now != readings:
                    readings = now
                    self.progress()
                if self._loop.time() - self._last >= step.deadline:
                    logger.warning("%s made no progress for %.1fs; ended", step.name, step.deadline)
                    raise step.stalled(step.deadline)
        finally:
            stopping.cancel()
            if not task.done():
                task.cancel()
                # Let it clean up (close a connection, end a child), but never wait on a stuck thread.
                await asyncio.wait({task}, timeout=_GRACE)
                if task.done() and not task.cancelled():
                    task.exception()  # retrieved: a failure while being cancelled says nothing new


def in_thread(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """fn(*args) in a daemon thread of its own, as a future of this loop (the caller's context carried)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(outcome: Callable[[], None]) -> None:
        try:
            loop.call_soon_threadsafe(outcome)
        except RuntimeError:
            pass  # the loop has closed: nobody waits any more

    def deliver_result(result: T) -> None:
        if not future.done():  # a cancelled step has stopped waiting
            future.set_result(result)

    def deliver_error(exc: BaseException) -> None:
        if not future.done():
            future.set_exception(exc)

    def target() -> None:
        try:
            result = context.run(fn, *args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task, whatever it is
            settle(functools.partial(deliver_error, exc))
        else:
            settle(functools.partial(deliver_result, result))

    threading.Thread(target=target, name=f"vidkiln-{getattr(fn, '__name__', 'call')}", daemon=True).start()
    return future


def seconds(value: float) -> str:
    """'1 second', '2.5 seconds': deadlines as a job's message says them."""
    return f"{value:g} second" + ("" if value == 1 else "s")
