"""Reading jobs: one, a page (keyset pagination), and a job's log."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.errors import FieldViolation, InvalidArgument, NotFound, R
from services.common.identity import Principal
from services.jobs import repository
from services.jobs.domain.deps import Deps
from services.jobs.domain.requests import parse_id
from services.jobs.models import Job, JobLog
from services.jobs.states import JobState

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Filters:
    status: JobState | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    external_id: str = ""


async def get_job(deps: Deps, *, principal: Principal, job_id: str) -> Job:
    """The caller's job; another account's (or a deleted) job is reported exactly like a missing one."""
    async with deps.sessions.begin() as session:
        return await owned(session, principal, job_id)


async def owned(session: AsyncSession, principal: Principal, job_id: str) -> Job:
    """The caller's job inside a transaction; NotFound otherwise."""
    job = await repository.get_account_job(session=session, job_id=parse_id(job_id), account_id=principal.account_id)
    if job is None or job.deleted_at is not None:
        raise NotFound("No such job.", reason=R.JOB_NOT_FOUND)
    return job


def _cursor(job: Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created_at.isoformat()}|{job.id}".encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, _, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), uuid.UUID(job_id)
    except ValueError as exc:
        raise InvalidArgument(
            "The cursor is not valid.", reason=R.REQUEST_INVALID, violations=[FieldViolation("cursor", "not valid")]
        ) from exc


async def list_jobs(
    deps: Deps, *, principal: Principal, page: int, page_size: int, filters: Filters, cursor: str = ""
) -> tuple[Sequence[Job], int, str]:
    """A page of the caller's jobs, newest first: the jobs, how many match, and the next cursor.

    With a cursor the page starts after it (keyset: constant cost however deep); without one,
    `page` picks it (1-based).
    """
    if page < 1 or not 1 <= page_size <= 100:
        raise InvalidArgument("page must be at least 1 and page size between 1 and 100.", reason=R.REQUEST_INVALID)
    after = _parse_cursor(cursor) if cursor else None
    async with deps.sessions.begin() as session:
        found, total = await repository.list_jobs(
            session=session,
            account_id=principal.account_id,
            status=filters.status,
            created_after=filters.created_after,
            created_before=filters.created_before,
            external_id=filters.external_id,
            after=after,
            offset=(page - 1) * page_size,
            limit=page_size + 1,  # one more than the page: whether another follows
        )
    more = len(found) > page_size
    jobs = found[:page_size]
    return jobs, total, _cursor(jobs[-1]) if more and jobs else ""


async def get_logs(
    deps: Deps, *, principal: Principal, job_id: str, limit: int, offset: int, level: str
) -> tuple[Sequence[JobLog], int]:
    """The job's log entries, oldest first, at or above `level` when one is given."""
    if not 1 <= limit <= 1000 or offset < 0 or (level and level.upper() not in LEVELS):
        raise InvalidArgument(
            "limit must be 1-1000, offset 0 or more, level one of DEBUG, INFO, WARNING, ERROR.",
            reason=R.REQUEST_INVALID,
        )
    async with deps.sessions.begin() as session:
        job = await owned(session, principal, job_id)
        levels = LEVELS[LEVELS.index(level.upper()) :] if level else None
        return await repository.list_logs(session=session, job_id=job.id, levels=levels, offset=offset, limit=limit)
