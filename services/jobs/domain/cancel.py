"""Canceling a job: the state change and the release of its credits are committed first, then
workers are told."""

from __future__ import annotations

import logging

from services.common.clock import utcnow
from services.common.identity import Principal
from services.jobs import outbox, repository
from services.jobs.domain import credits, dispatch
from services.jobs.domain.deps import Deps
from services.jobs.domain.queries import owned
from services.jobs.models import Job
from services.jobs.states import JobState, check_transition

logger = logging.getLogger(__name__)

_FINISHED = {JobState.SUCCEEDED: "succeeded", JobState.FAILED: "failed", JobState.CANCELED: "been canceled"}


async def cancel_job(deps: Deps, *, principal: Principal, job_id: str) -> tuple[Job, bool, str, int]:
    """Cancels the caller's created, queued or running job: (job, changed, note, credits released)."""
    now = utcnow()
    async with deps.sessions.begin() as session:
        job = await owned(session, principal, job_id)
        before = outbox.snapshot(job)
        if before.status.terminal:
            return job, False, f"The job had already {_FINISHED[before.status]}; nothing was canceled.", 0
        check_transition(before.status, JobState.CANCELED)
        job.status = JobState.CANCELED.value
        job.finished_at = now
        account = await credits.lock_account(session, job.account_id, deps.policy.trial)
        released = await credits.release(session, account, job.id)
        job.reserved_neu = 0
        outbox.stage(session, job, before)  # its credits released: the canceled event says so
        repository.add_log(
            session=session,
            job_id=job.id,
            level="INFO",
            message="Canceled on request",
            at=now,
            details={"released": released},
        )
    await dispatch.announce(deps, job)
    try:
        await deps.announce_cancel(str(job.id))
        await dispatch.publish_state(deps, job)
        await dispatch.schedule(deps, job.account_id)
    except Exception:
        # The cancellation is committed; a worker that still runs it finishes into a canceled job.
        logger.exception("could not announce the cancellation of job %s", job.id)
    return job, True, "", released
