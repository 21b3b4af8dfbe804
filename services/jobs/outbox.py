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
from dataclasses import dataclass
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


def _payload(job: Job, previous: JobState | None, status: JobState, step: int) -> bytes:
    snapshot = protomap.job_to_proto(job)
    snapshot.status = protomap.STATUS_TO_PROTO[status]
    return events_pb2.JobStateChanged(
        job=snapshot,
        previous_status=protomap.STATUS_TO_PROTO[previous] if previous else jobs_pb2.JOB_STATUS_UNSPECIFIED,
        progress_step=step,
        event_id=_event_id(job, status, step),
    ).SerializeToString()


def _event_id(job: Job, status: JobState, step: int) -> str:
    return f"{job.id}:{status.value}" + (f":{step}" if step else "")


@dataclass
class _Staged:
    """An event staged at a flush; its payload is taken at commit, when the job is complete."""

    row: OutboxEvent
    job: Job
    previous: JobState | None
    status: JobState
    step: int = 0

    def fill(self) -> None:
        self.row.payload = _payload(self.job, self.previous, self.status, self.step)


def _event(job: Job, previous: JobState | None, status: JobState, step: int = 0) -> _Staged:
    # The Nats-Msg-Id is prefixed: JetStream dedupes per stream, and the encoder's own events on EVENTS
    # use ids like "<job id>:succeeded" too.
    row = OutboxEvent(
        job_id=job.id,
        msg_id=f"state:{_event_id(job, status, step)}",
        payload=_payload(job, previous, status, step),
        created_at=utcnow(),
    )
    return _Staged(row, job, previous, status, step)


def events_for(job: Job, *, new: bool) -> list[_Staged]:
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
        session.add_all([s.row for s in staged])
        session.info.setdefault(STAGED, set()).update(s.row.job_id for s in staged)
        session.info.setdefault(_TO_FILL, []).extend(staged)


@event.listens_for(Session, "before_commit")
def _fill(session: Session) -> None:
    """Payloads show the job as committed (e.g. with the credits charged after the status changed)."""
    for staged in session.info.pop(_TO_FILL, ()):
        staged.fill()


_TO_FILL = "vidkiln.outbox.to_fill"


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
