"""Waiting for a job: poll until it is terminal, tell a callback whenever its status or progress moves."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from vidkiln.client.errors import JobFailedError, WaitTimeoutError
from vidkiln.client.models import MediaJob, OnDemandStatus

J = TypeVar("J", OnDemandStatus, MediaJob)


@dataclass
class Poll(Generic[J]):
    """The deadline and the last (status, progress) seen of one wait."""

    job_id: str
    interval: float
    timeout: float
    on_progress: Callable[[J], None] | None
    deadline: float = field(init=False)
    last: tuple[str, float | None] | None = None

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.timeout

    def seen(self, job: J) -> None:
        now = (job.status, job.progress)
        if now != self.last and self.on_progress is not None:
            self.on_progress(job)
        self.last = now

    def delay(self, job: J) -> float:
        """Seconds until the next poll; WaitTimeoutError once the deadline has passed."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise WaitTimeoutError(f"job {self.job_id} still {job.status} after {self.timeout:.0f} s", job)
        return min(self.interval, left)


def ended(job: J, *, raise_on_failure: bool) -> J:
    """The terminal job, or JobFailedError when it did not succeed and the caller asked for that."""
    if raise_on_failure and job.status not in ("success", "completed"):
        if isinstance(job, MediaJob):
            error = job.error
            raise JobFailedError(job, job.status, error.code if error else None, error.message if error else None)
        raise JobFailedError(job, job.status, job.failure_code, job.failure_message)
    return job
