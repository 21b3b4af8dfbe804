"""The job event outbox: every committed status change has its job.state_changed, even across a crash.

A flush that changes a job's status (or moves its progress into another ten percent) also inserts
an `OutboxEvent` carrying the serialized event, in the same transaction. After commit the caller
publishes the job's staged events (`publish_job`); the sweeper publishes whatever a crash between
commit and publish left (`publish_stale`). Each event keeps one Nats-Msg-Id, so the stream drops a
repeat, and the webhooks service keys its records on the same id.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlmodel import Session

from protos.jobs.v1 import events_pb2, jobs_pb2
from services.common import subjects
from services.common.clock import utcnow
from services.common.db import Sessions
from services.common.events import Publish
from services.jobs import protomap, repository
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
    """An event noticed at a flush (status history is only known then); its row is written at commit,
    when the job is complete (e.g. with the credits charged after the status changed)."""

    job: Job
    previous: JobState | None
    status: JobState
    step: int = 0
    at: datetime = field(default_factory=utcnow)

    def row(self) -> OutboxEvent:
        # The Nats-Msg-Id is prefixed: JetStream dedupes per stream, and the encoder's own events on
        # EVENTS use ids like "<job id>:succeeded" too.
        return OutboxEvent(
            job_id=self.job.id,
            msg_id=f"state:{_event_id(self.job, self.status, self.step)}",
            payload=_payload(self.job, self.previous, self.status, self.step),
            created_at=self.at,
        )


def _event(job: Job, previous: JobState | None, status: JobState, step: int = 0) -> _Staged:
    return _Staged(job, previous, status, step)


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
        session.info.setdefault(STAGED, set()).update(s.job.id for s in staged)
        session.info.setdefault(_TO_FILL, []).extend(staged)


@event.listens_for(Session, "before_commit")
def _fill(session: Session) -> None:
    """Writes the noticed events, in order, as the job is being committed; a job whose insert was
    rolled back to a savepoint (one item of a bulk create) has none."""
    session.flush()  # what is still pending is noticed now
    rows = [s.row() for s in session.info.pop(_TO_FILL, ()) if _kept(s.job)]
    if rows:
        session.add_all(rows)


def _kept(job: Job) -> bool:
    state = inspect(job)
    return bool(state.persistent or state.pending)


_TO_FILL = "vidkiln.outbox.to_fill"
_PUBLISH_AT_ONCE = 32  # jobs whose events are being published together


STAGED = "vidkiln.outbox.staged"  # session.info key: ids of jobs with events staged in the session


def staged_in(session: Any, job_id: uuid.UUID) -> bool:
    """Whether the (finished) session staged events for the job."""
    return job_id in session.info.get(STAGED, ())


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
