"""Jobs queries; they never commit (the use case owns the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.jobs.models import Job, JobLog
from services.jobs.states import JobState


async def get_job(*, session: AsyncSession, job_id: uuid.UUID) -> Job | None:
    return await session.get(Job, job_id)


async def get_account_job(*, session: AsyncSession, job_id: uuid.UUID, account_id: uuid.UUID) -> Job | None:
    """The job if it belongs to the account (another account's job is simply not found)."""
    job = await session.get(Job, job_id)
    return job if job is not None and job.account_id == account_id else None


async def list_jobs(
    *, session: AsyncSession, account_id: uuid.UUID, status: JobState | None, offset: int, limit: int
) -> tuple[Sequence[Job], int]:
    """A page of the account's jobs, newest first, and the total matching."""
    query = select(Job).where(Job.account_id == account_id)
    count = select(func.count()).select_from(Job).where(Job.account_id == account_id)
    if status is not None:
        query = query.where(Job.status == status.value)
        count = count.where(Job.status == status.value)
    query = query.order_by(col(Job.created_at).desc(), col(Job.id)).offset(offset).limit(limit)
    jobs = (await session.exec(query)).all()
    total = (await session.exec(count)).one()
    return jobs, int(total)


async def undispatched_jobs(*, session: AsyncSession, created_before: datetime, limit: int) -> Sequence[Job]:
    """Queued jobs whose task was never confirmed published (a crash between commit and publish)."""
    query = (
        select(Job)
        .where(Job.status == JobState.QUEUED.value, col(Job.dispatched_at).is_(None))
        .where(col(Job.created_at) < created_before)
        .order_by(col(Job.created_at))
        .limit(limit)
    )
    return (await session.exec(query)).all()


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
