"""Jobs queries; they never commit (the use case owns the transaction).

Every SQL statement of the jobs service is here: jobs and their logs, the scheduler's questions,
credits, idempotency answers and the event outbox. Rows are added with `session.add` by the use
case that builds them; a changed job is recorded with `services.jobs.outbox.stage`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case
from sqlmodel import col, delete, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.jobs.models import CallerHold, CreditAccount, IdempotencyRecord, Job, JobLog, OutboxEvent, Reservation
from services.jobs.states import JobState

_LIVE = (JobState.QUEUED.value, JobState.RUNNING.value)


async def get_job(*, session: AsyncSession, job_id: uuid.UUID) -> Job | None:
    return await session.get(Job, job_id)


async def get_account_job(*, session: AsyncSession, job_id: uuid.UUID, account_id: uuid.UUID) -> Job | None:
    """The job if it belongs to the account (another account's job is simply not found)."""
    job = await session.get(Job, job_id)
    return job if job is not None and job.account_id == account_id else None


async def list_jobs(
    *,
    session: AsyncSession,
    account_id: uuid.UUID,
    status: JobState | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    external_id: str = "",
    after: tuple[datetime, uuid.UUID] | None = None,
    offset: int = 0,
    limit: int,
) -> tuple[Sequence[Job], int]:
    """A page of the account's jobs that are not deleted, newest first, and how many match the filters.

    `after` (created_at, id of the last job seen) starts the page after it (keyset); else `offset`.
    """
    where: list[ColumnElement[bool]] = [col(Job.account_id) == account_id, col(Job.deleted_at).is_(None)]
    if status is not None:
        where.append(col(Job.status) == status.value)
    if created_after is not None:
        where.append(col(Job.created_at) >= created_after)
    if created_before is not None:
        where.append(col(Job.created_at) < created_before)
    if external_id:
        where.append(col(Job.external_id) == external_id)
    query = select(Job).where(*where)
    if after is not None:
        at, last = after
        query = query.where(or_(col(Job.created_at) < at, (col(Job.created_at) == at) & (col(Job.id) < last)))
    else:
        query = query.offset(offset)
    query = query.order_by(col(Job.created_at).desc(), col(Job.id).desc()).limit(limit)
    jobs = (await session.exec(query)).all()
    total = (await session.exec(select(func.count()).select_from(Job).where(*where))).one()
    return jobs, int(total)


def add_log(
    *,
    session: AsyncSession,
    job_id: uuid.UUID,
    level: str,
    message: str,
    at: datetime,
    details: dict[str, Any] | None = None,
    attempt: int = 0,
) -> None:
    session.add(JobLog(job_id=job_id, level=level, message=message, details=details, created_at=at, attempt=attempt))


async def list_logs(
    *, session: AsyncSession, job_id: uuid.UUID, levels: Sequence[str] | None, offset: int, limit: int
) -> tuple[Sequence[JobLog], int]:
    """The job's log entries, oldest first (only those at `levels` when given), and how many there are."""
    where: list[ColumnElement[bool]] = [col(JobLog.job_id) == job_id]
    if levels is not None:
        where.append(col(JobLog.level).in_(levels))
    rows = await session.exec(
        select(JobLog).where(*where).order_by(col(JobLog.created_at), col(JobLog.id)).offset(offset).limit(limit)
    )
    total = await session.exec(select(func.count()).select_from(JobLog).where(*where))
    return rows.all(), int(total.one())


async def count_dispatched(*, session: AsyncSession, account_id: uuid.UUID) -> int:
    """The account's jobs at the workers: claimed by the scheduler and not finished."""
    busy = await session.exec(
        select(func.count())
        .select_from(Job)
        .where(Job.account_id == account_id, col(Job.status).in_(_LIVE), col(Job.dispatched_at).is_not(None))
    )
    return int(busy.one())


async def waiting_jobs(*, session: AsyncSession, account_id: uuid.UUID, limit: int) -> Sequence[Job]:
    """The account's queued jobs not claimed yet, in the order they go: high priority first, then the oldest."""
    waiting = await session.exec(
        select(Job)
        .where(Job.account_id == account_id, Job.status == JobState.QUEUED.value, col(Job.dispatched_at).is_(None))
        .order_by(case((col(Job.priority) == "high", 0), else_=1), col(Job.queued_at), col(Job.id))
        .limit(limit)
    )
    return waiting.all()


async def unconfirmed_claims(*, session: AsyncSession, claimed_before: datetime, limit: int) -> Sequence[Job]:
    """Queued jobs claimed before `claimed_before` whose task was never confirmed published."""
    query = select(Job).where(
        Job.status == JobState.QUEUED.value,
        col(Job.dispatched_at) < claimed_before,
        Job.published == False,  # noqa: E712
    )
    return (await session.exec(query.limit(limit))).all()


async def accounts_with_waiting_jobs(*, session: AsyncSession, limit: int) -> Sequence[uuid.UUID]:
    """Accounts that have queued jobs nobody claimed yet."""
    query = (
        select(Job.account_id)
        .where(Job.status == JobState.QUEUED.value, col(Job.dispatched_at).is_(None))
        .distinct()
        .limit(limit)
    )
    return (await session.exec(query)).all()


async def get_credit_account(
    *, session: AsyncSession, account_id: uuid.UUID, lock: bool = False
) -> CreditAccount | None:
    """The account's credits; `lock` holds the row until commit (PostgreSQL; SQLite serializes writers)."""
    query = select(CreditAccount).where(CreditAccount.account_id == account_id)
    return (await session.exec(query.with_for_update() if lock else query)).first()


async def get_reservation(*, session: AsyncSession, job_id: uuid.UUID) -> Reservation | None:
    """What the platform holds for the job it runs."""
    return await session.get(Reservation, job_id)


async def get_caller_hold(*, session: AsyncSession, job_id: uuid.UUID) -> CallerHold | None:
    """What the caller set aside itself for one of its jobs (POST /tokens/reserve)."""
    return await session.get(CallerHold, job_id)


async def get_idempotency_record(
    *, session: AsyncSession, account_id: uuid.UUID, route: str, key: str, lock: bool = False
) -> IdempotencyRecord | None:
    """The record of a key on a route; `lock` holds it until commit, so two repeats take turns."""
    return await session.get(IdempotencyRecord, (account_id, route, key), with_for_update=lock)


async def delete_idempotency_record(*, session: AsyncSession, record: IdempotencyRecord) -> None:
    await session.delete(record)


async def purge_idempotency_records(*, session: AsyncSession, created_before: datetime) -> int:
    """Drops the records made before `created_before`; how many."""
    result = await session.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < created_before))
    return int(result.rowcount or 0)


async def outbox_events_of(*, session: AsyncSession, job_ids: Sequence[uuid.UUID]) -> Sequence[OutboxEvent]:
    """The events staged for the jobs, in the order they were staged."""
    query = select(OutboxEvent).where(col(OutboxEvent.job_id).in_(job_ids)).order_by(col(OutboxEvent.id))
    return (await session.exec(query)).all()


async def stale_outbox_events(*, session: AsyncSession, staged_before: datetime, limit: int) -> Sequence[OutboxEvent]:
    """Events staged before `staged_before` (their publish after commit never happened), oldest first."""
    query = (
        select(OutboxEvent)
        .where(col(OutboxEvent.created_at) < staged_before)
        .order_by(col(OutboxEvent.id))
        .limit(limit)
    )
    return (await session.exec(query)).all()


async def delete_outbox_events(*, session: AsyncSession, ids: Sequence[int]) -> None:
    """Removes published events."""
    await session.exec(delete(OutboxEvent).where(col(OutboxEvent.id).in_(ids)))
