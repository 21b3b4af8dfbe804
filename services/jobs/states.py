"""The job state machine: which status may follow which."""

from __future__ import annotations

from enum import StrEnum

from services.common.errors import FailedPrecondition, R


class JobState(StrEnum):
    CREATED = "created"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELED})

# QUEUED -> SUCCEEDED is allowed: a worker's "started" event may arrive after its outcome.
_NEXT: dict[JobState, frozenset[JobState]] = {
    JobState.CREATED: frozenset({JobState.QUEUED, JobState.FAILED, JobState.CANCELED}),
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELED}),
    JobState.RUNNING: frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELED}),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELED: frozenset(),
}


class IllegalTransition(FailedPrecondition):
    default_reason = R.JOB_NOT_CANCELABLE

    def __init__(self, current: JobState, target: JobState) -> None:
        super().__init__(f"A {current.value} job cannot become {target.value}.")
        self.current = current
        self.target = target


def can_transition(current: JobState, target: JobState) -> bool:
    return target in _NEXT[current]


def check_transition(current: JobState, target: JobState) -> None:
    """Raises IllegalTransition unless target may follow current."""
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
