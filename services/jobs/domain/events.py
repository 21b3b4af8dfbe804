"""Applying encoder events to jobs: idempotent, so redelivered or replayed events are no-ops.

A job's credits are settled in the same transaction as its final state (charged on success,
released on failure), so they are settled exactly once; a finished job frees a slot for the
account's next job.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.jobs import outbox, repository
from services.jobs.domain import credits, dispatch
from services.jobs.domain.create import estimate_for
from services.jobs.domain.deps import Deps
from services.jobs.models import Job
from services.jobs.states import JobState, can_transition

logger = logging.getLogger(__name__)

Change = Callable[[AsyncSession, Job], Awaitable[str | None]]


@dataclass(frozen=True)
class Output:
    key: str
    size: int
    content_type: str
    thumbnails: tuple[dict[str, Any], ...] = ()  # StoredObject fields of each poster JPEG
    passes: int = 1
    warnings: tuple[str, ...] = ()


async def _apply(deps: Deps, job_id: uuid.UUID, target: JobState | None, change: Change) -> None:
    """Runs `change` on the job in one transaction, staging its events there; publishes them after commit.

    `change` returns a log message when it changed the job, None when the event was a no-op.
    When the job already is in `target` (a replay after a crash that followed the commit), the
    state change is published again: the stream drops it if the first publish got through.
    """
    staged = 0
    async with deps.sessions.begin() as session:
        job = await repository.get_job(session=session, job_id=job_id)
        if job is None:
            logger.warning("event for unknown job %s ignored", job_id)
            return
        before = outbox.snapshot(job)
        message = await change(session, job)
        if message is not None:
            staged = outbox.stage(session, job, before)  # the change is complete: its credits are settled
            if target is not None and JobState(job.status) == target and message:
                repository.add_log(session=session, job_id=job.id, level="INFO", message=message, at=job.updated_at)
    if message is not None:
        await dispatch.announce(deps, job)
    if staged or (target is not None and JobState(job.status) == target):
        # A replay after a crash that followed the commit finds the events the sweeper has not sent yet.
        await dispatch.publish_state(deps, job)
    if target is None or JobState(job.status) != target:
        return
    if target.terminal:
        await dispatch.schedule(deps, job.account_id)  # a slot is free for the account's next job


async def apply_started(deps: Deps, *, job_id: uuid.UUID, attempt: int, at: datetime) -> None:
    async def change(_session: AsyncSession, job: Job) -> str | None:
        state = JobState(job.status)
        if state == JobState.QUEUED:
            job.status = JobState.RUNNING.value
            job.started_at = at
            job.attempt = attempt
            job.progress = 0.0
            return "Encoding started"
        if state == JobState.RUNNING and attempt > job.attempt:
            # A redelivered task: another worker restarted the encode from the beginning.
            job.attempt = attempt
            job.progress = 0.0
            return f"Encoding restarted (attempt {attempt})"
        return None

    await _apply(deps, job_id, JobState.RUNNING, change)


async def apply_progress(deps: Deps, *, job_id: uuid.UUID, attempt: int, progress: float) -> None:
    async def change(_session: AsyncSession, job: Job) -> str | None:
        if JobState(job.status) != JobState.RUNNING or attempt < job.attempt:
            return None  # late progress of an earlier attempt, or of a finished job
        job.attempt = attempt
        job.progress = round(max(0.0, min(progress, 99.9)), 1)
        return ""

    await _apply(deps, job_id, None, change)


async def apply_succeeded(
    deps: Deps,
    *,
    job_id: uuid.UUID,
    attempt: int,
    output: Output,
    source_probe: dict[str, Any],
    output_probe: dict[str, Any],
    encoder: str,
    at: datetime,
) -> None:
    async def change(session: AsyncSession, job: Job) -> str | None:
        if not can_transition(JobState(job.status), JobState.SUCCEEDED):
            return None
        job.status = JobState.SUCCEEDED.value
        job.started_at = job.started_at or at
        job.finished_at = at
        job.attempt = max(job.attempt, attempt)
        job.progress = 100.0
        job.output_key = output.key
        job.output_size = output.size
        job.output_content_type = output.content_type
        job.output_expires_at = at + timedelta(seconds=job.output_expiry_seconds)
        job.source_probe = source_probe
        job.output_probe = output_probe
        job.encoder = encoder
        job.thumbnails = list(output.thumbnails)
        job.effective_passes = output.passes
        job.warnings = list(output.warnings)
        duration = float(source_probe.get("duration_sec") or 0) or job.duration_sec
        job.duration_sec = duration
        # Charged for what was really encoded: the source's actual duration.
        cost = estimate_for(job.options, duration, on_demand=job.mode == "on_demand").total
        account = await credits.lock_account(session, job.account_id, deps.policy.trial)
        job.charged_neu = await credits.charge(session, account, job.id, cost)
        job.reserved_neu = 0
        return "Encoding finished"

    await _apply(deps, job_id, JobState.SUCCEEDED, change)


async def apply_failed(deps: Deps, *, job_id: uuid.UUID, attempt: int, reason: str, message: str, at: datetime) -> None:
    async def change(session: AsyncSession, job: Job) -> str | None:
        if not can_transition(JobState(job.status), JobState.FAILED):
            return None
        job.status = JobState.FAILED.value
        job.finished_at = at
        job.attempt = max(job.attempt, attempt)
        job.failure_reason = reason
        job.failure_message = message
        account = await credits.lock_account(session, job.account_id, deps.policy.trial)
        await credits.release(session, account, job.id)
        job.reserved_neu = 0
        return f"Encoding failed: {message}"

    await _apply(deps, job_id, JobState.FAILED, change)


async def record_log(
    deps: Deps,
    *,
    job_id: uuid.UUID,
    attempt: int,
    level: str,
    message: str,
    details: dict[str, Any] | None,
    at: datetime,
) -> None:
    """Adds a worker's entry to the job's log (an unknown job's entry is dropped)."""
    async with deps.sessions.begin() as session:
        if await repository.get_job(session=session, job_id=job_id) is None:
            logger.warning("log entry for unknown job %s ignored", job_id)
            return
        repository.add_log(
            session=session, job_id=job_id, level=level, message=message, at=at, details=details, attempt=attempt
        )
