"""The job event outbox: every committed status change has its job.state_changed, even across a crash.

A flush that changes a job's status (or moves its progress into another ten percent) also inserts
an `OutboxEvent` carrying the serialized event, in the same transaction. After commit the caller
publishes the job's staged events (`publish_job`); the sweeper publishes whatever a crash between
commit and publish left (`publish_stale`). Each event keeps one Nats-Msg-Id, so the stream drops a
repeat, and the webhooks service keys its records on the same id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, event, inspect
from sqlmodel import Session, col, select

from protos.jobs.v1 import events_pb2, jobs_pb2
from services.common import subjects
from services.common.clock import utcnow
from services.common.db import Sessions
from services.common.events import Publish
from services.jobs import protomap
from services.jobs.models import Job, OutboxEvent
from services.jobs.states import JobState

logger = logging.getLogger(__name__)


def _event(job: Job, previous: JobState | None, status: JobState, step: int = 0) -> OutboxEvent:
    event_id = f"{job.id}:{status.value}" + (f":{step}" if step else "")
    snapshot = protomap.job_to_proto(job)
    snapshot.status = protomap.STATUS_TO_PROTO[status]
    changed = events_pb2.JobStateChanged(
        job=snapshot,
        previous_status=protomap.STATUS_TO_PROTO[previous] if previous else jobs_pb2.JOB_STATUS_UNSPECIFIED,
        progress_step=step,
        event_id=event_id,
    )
    return OutboxEvent(job_id=job.id, msg_id=event_id, payload=changed.SerializeToString(), created_at=utcnow())


def events_for(job: Job, *, new: bool) -> list[OutboxEvent]:
    """The events a flush of this job implies (none when neither status nor progress step moved)."""
    status = JobState(job.status)
    if new:
        if status == JobState.CREATED:
            return [_event(job, None, status)]
        # Created and queued at once: both events, so `job.created` subscribers hear of it too.
        return [_event(job, None, JobState.CREATED), _event(job, JobState.CREATED, status)]
    state = inspect(job)
    history = state.attrs.status.history
    if history.deleted and history.deleted[0] != job.status:
        return [_event(job, JobState(history.deleted[0]), status)]
    progress = state.attrs.progress.history
    if status == JobState.RUNNING and progress.deleted:
        before, after = int((progress.deleted[0] or 0) // 10), int(job.progress // 10)
        if 0 < after <= 9 and after > before:
            return [_event(job, status, status, after)]
    return []


@event.listens_for(Session, "before_flush")
def _stage(session: Session, _context: Any, _instances: Any) -> None:
    staged = [row for obj in list(session.new) if isinstance(obj, Job) for row in events_for(obj, new=True)]
    staged += [row for obj in list(session.dirty) if isinstance(obj, Job) for row in events_for(obj, new=False)]
    if staged:
        session.add_all(staged)
        session.info.setdefault(STAGED, set()).update(row.job_id for row in staged)


STAGED = "vidkiln.outbox.staged"  # session.info key: ids of jobs with events staged in the session


def staged_in(session: Any, job_id: uuid.UUID) -> bool:
    """Whether the (finished) session staged events for the job."""
    return job_id in session.info.get(STAGED, ())


async def publish_job(sessions: Sessions, publisher: Publish, job_id: uuid.UUID) -> None:
    """Publishes the job's staged events in order, then removes them. Raises if NATS refuses one
    (what was not published stays staged for the sweeper)."""
    async with sessions() as session:
        rows = (
            await session.exec(select(OutboxEvent).where(OutboxEvent.job_id == job_id).order_by(col(OutboxEvent.id)))
        ).all()
    await _publish(sessions, publisher, rows)


async def publish_stale(sessions: Sessions, publisher: Publish, *, before: datetime, limit: int = 500) -> int:
    """Publishes events staged before `before` (their publish after commit never happened)."""
    async with sessions() as session:
        rows = (
            await session.exec(
                select(OutboxEvent)
                .where(col(OutboxEvent.created_at) < before)
                .order_by(col(OutboxEvent.id))
                .limit(limit)
            )
        ).all()
    if rows:
        logger.warning("publishing %d job events left staged by an interrupted change", len(rows))
    await _publish(sessions, publisher, rows)
    return len(rows)


async def _publish(sessions: Sessions, publisher: Publish, rows: Sequence[OutboxEvent]) -> None:
    done: list[int] = []
    try:
        for row in rows:
            await publisher.publish(
                subjects.JOB_STATE_CHANGED, events_pb2.JobStateChanged.FromString(row.payload), msg_id=row.msg_id
            )
            assert row.id is not None
            done.append(row.id)
    finally:
        if done:
            async with sessions.begin() as session:
                await session.exec(delete(OutboxEvent).where(col(OutboxEvent.id).in_(done)))
