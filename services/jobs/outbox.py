"""The job event outbox: every committed status change has its job.state_changed, even across a crash.

A use case that changes a job takes a `snapshot` of it when it loads it and, once the change is
complete (credits charged, credentials forgotten), calls `stage` in the same transaction: that adds
an `OutboxEvent` carrying the serialized event for a status change (or for progress moving into
another ten percent), and for a new job its created (and queued) events. Nothing is noticed behind
the caller's back: a change not staged has no event. After commit the caller publishes the job's
staged events (`publish_job`); the sweeper publishes whatever a crash between commit and publish
left (`publish_stale`). Each event keeps one Nats-Msg-Id, so the stream drops a repeat, and the
webhooks service keys its records on the same id.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from protos.jobs.v1 import events_pb2, jobs_pb2
from services.common import subjects
from services.common.clock import utcnow
from services.common.db import Sessions
from services.common.events import Publish
from services.jobs import protomap, repository
from services.jobs.forget import forget_credentials
from services.jobs.models import Job, OutboxEvent
from services.jobs.states import JobState

logger = logging.getLogger(__name__)

_PUBLISH_AT_ONCE = 32  # jobs whose events are being published together


@dataclass(frozen=True)
class Snapshot:
    """A job's status and progress before a change: what the change's events are told against."""

    status: JobState
    progress: float


@dataclass(frozen=True)
class Event:
    """One job.state_changed a change implies: from `previous` to `status` (a progress step when `step`)."""

    previous: JobState | None
    status: JobState
    step: int = 0


def snapshot(job: Job) -> Snapshot:
    """The job as loaded, before the use case changes it."""
    return Snapshot(JobState(job.status), job.progress)


def events_for(job: Job, before: Snapshot | None) -> list[Event]:
    """The events that bring a reader from `before` (None: a new job) to the job as it is now; none when
    neither its status nor its progress step moved."""
    status = JobState(job.status)
    if before is None:
        if status == JobState.CREATED:
            return [Event(None, status)]
        # Created and queued at once: both events, so `job.created` subscribers hear of it too.
        return [Event(None, JobState.CREATED), Event(JobState.CREATED, status)]
    if before.status != status:
        return [Event(before.status, status)]
    if status == JobState.RUNNING:
        was, now = int((before.progress or 0) // 10), int(job.progress // 10)
        if 0 < now <= 9 and now > was:
            return [Event(status, status, now)]
    return []


def stage(session: AsyncSession, job: Job, before: Snapshot | None) -> int:
    """Records a complete change of `job` in the session's transaction; how many events it staged.

    Call it once the change is done (its credits settled): it moves updated_at (snapshots of one job
    are ordered by it; a new job keeps its creation time), removes a finished job's credentials, and
    adds the outbox rows of the events the change implies, their payloads the job as committed.
    """
    if before is not None:
        job.updated_at = utcnow()
    forget_credentials(job)
    session.add(job)
    now = utcnow()
    rows = [_row(job, event, now) for event in events_for(job, before)]
    session.add_all(rows)
    return len(rows)


def _event_id(job: Job, status: JobState, step: int) -> str:
    return f"{job.id}:{status.value}" + (f":{step}" if step else "")


def _row(job: Job, event: Event, at: datetime) -> OutboxEvent:
    snapshot = protomap.job_to_proto(job)
    snapshot.status = protomap.STATUS_TO_PROTO[event.status]
    previous = protomap.STATUS_TO_PROTO[event.previous] if event.previous else jobs_pb2.JOB_STATUS_UNSPECIFIED
    event_id = _event_id(job, event.status, event.step)
    payload = events_pb2.JobStateChanged(
        job=snapshot, previous_status=previous, progress_step=event.step, event_id=event_id
    ).SerializeToString()
    # The Nats-Msg-Id is prefixed: JetStream dedupes per stream, and the encoder's own events on
    # EVENTS use ids like "<job id>:succeeded" too.
    return OutboxEvent(job_id=job.id, msg_id=f"state:{event_id}", payload=payload, created_at=at)


async def publish_job(sessions: Sessions, publisher: Publish, job_id: uuid.UUID) -> None:
    """Publishes the job's staged events in order, then removes them. Raises if NATS refuses one
    (what was not published stays staged for the sweeper)."""
    await publish_jobs(sessions, publisher, [job_id])


async def publish_jobs(sessions: Sessions, publisher: Publish, job_ids: Sequence[uuid.UUID]) -> None:
    """publish_job for many jobs at once (a bulk create): one read, one delete."""
    async with sessions() as session:
        rows = await repository.outbox_events_of(session=session, job_ids=job_ids)
    await _publish(sessions, publisher, rows)


async def publish_stale(sessions: Sessions, publisher: Publish, *, before: datetime, limit: int = 500) -> int:
    """Publishes events staged before `before` (their publish after commit never happened)."""
    async with sessions() as session:
        rows = await repository.stale_outbox_events(session=session, staged_before=before, limit=limit)
    if rows:
        logger.warning("publishing %d job events left staged by an interrupted change", len(rows))
    await _publish(sessions, publisher, rows)
    return len(rows)


async def _publish(sessions: Sessions, publisher: Publish, rows: Sequence[OutboxEvent]) -> None:
    """Each job's events in order; different jobs' side by side (a bulk create publishes thousands)."""
    by_job: dict[uuid.UUID, list[OutboxEvent]] = {}
    for row in rows:
        by_job.setdefault(row.job_id, []).append(row)
    done: list[int] = []
    gate = asyncio.Semaphore(_PUBLISH_AT_ONCE)

    async def one_job(events: list[OutboxEvent]) -> None:
        async with gate:
            for row in events:
                changed = events_pb2.JobStateChanged.FromString(row.payload)
                await publisher.publish(subjects.JOB_STATE_CHANGED, changed, msg_id=row.msg_id)
                assert row.id is not None
                done.append(row.id)

    try:
        failures = [
            r for r in await asyncio.gather(*(one_job(e) for e in by_job.values()), return_exceptions=True) if r
        ]
        if failures:
            raise failures[0]
    finally:
        if done:
            async with sessions.begin() as session:
                await repository.delete_outbox_events(session=session, ids=done)
