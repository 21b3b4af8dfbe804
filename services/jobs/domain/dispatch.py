"""The scheduler: which queued jobs go to the workers now.

Each account may have at most `max_running_per_account` jobs at the workers (dispatched, not yet
finished); the rest wait in the database, so one account's thousand-job batch never stands in
front of another account's single job. Within an account, high priority goes first, then the
oldest. A job is first claimed (in a transaction holding the account's lock), then its task is
published; the sweeper publishes again any claim whose publish was not confirmed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta

from protos.jobs.v1 import events_pb2
from services.common import subjects
from services.common.clock import utcnow
from services.jobs import outbox, protomap, repository
from services.jobs.domain import credits, idempotency
from services.jobs.domain.deps import Deps
from services.jobs.models import Job

logger = logging.getLogger(__name__)


async def schedule(deps: Deps, account_id: uuid.UUID) -> int:
    """Dispatches as many of the account's waiting jobs as its cap allows; how many."""
    now = utcnow()
    async with deps.sessions.begin() as session:
        await credits.lock_account(session, account_id, deps.policy.trial)  # one scheduler per account at a time
        free = deps.policy.max_running_per_account - await repository.count_dispatched(
            session=session, account_id=account_id
        )
        if free <= 0:
            return 0
        claimed = list(await repository.waiting_jobs(session=session, account_id=account_id, limit=free))
        for job in claimed:
            before = outbox.snapshot(job)
            job.dispatched_at = now
            outbox.stage(session, job, before)  # a claim moves no status: it stages no event
    await publish(deps, claimed)
    return len(claimed)


async def publish(deps: Deps, jobs: Sequence[Job]) -> None:
    """Publishes each claimed job's task, then records that it reached the stream."""
    sent = []
    for job in jobs:
        task = events_pb2.EncodeRequested(
            job_id=str(job.id),
            account_id=str(job.account_id),
            source=protomap.source_of(job, with_credentials=True),
            options=protomap.options_to_proto(job.options),
            output_key=job.output_key,
            output_filename=job.output_filename,
            destination=protomap.destination_of(job, with_credentials=True),
        )
        try:
            await deps.publisher.publish(subjects.TASK_ENCODE, task, msg_id=f"{job.id}:encode")
        except Exception:
            # Claimed but not published: the sweeper tries again after the grace period.
            logger.exception("publishing the task of job %s failed", job.id)
            continue
        sent.append(job.id)
    if sent:
        async with deps.sessions.begin() as session:
            for job_id in sent:
                stored = await repository.get_job(session=session, job_id=job_id)
                if stored is not None:
                    before = outbox.snapshot(stored)
                    stored.published = True
                    outbox.stage(session, stored, before)


async def announce(deps: Deps, job: Job) -> None:
    """The job's new snapshot for read models. Best effort (core NATS): a reader that may have
    missed one reads the job again."""
    try:
        await deps.announce_job(protomap.job_to_proto(job))
    except Exception:
        logger.warning("could not announce job %s to read models", job.id, exc_info=True)


async def publish_state(deps: Deps, job: Job) -> None:
    """The job.state_changed events the job's committed changes staged (see services.jobs.outbox)."""
    await outbox.publish_job(deps.sessions, deps.publisher, job.id)


async def publish_states(deps: Deps, jobs: Sequence[Job]) -> None:
    """publish_state for many jobs in one go."""
    await outbox.publish_jobs(deps.sessions, deps.publisher, [job.id for job in jobs])


async def sweep(deps: Deps, *, limit: int = 500) -> int:
    """Republishes unconfirmed claims, schedules every account with waiting jobs, forgets old
    idempotency answers. How many jobs it (re)dispatched."""
    before = utcnow() - timedelta(seconds=deps.policy.dispatch_grace)
    async with deps.sessions.begin() as session:
        unconfirmed = await repository.unconfirmed_claims(session=session, claimed_before=before, limit=limit)
        waiting = await repository.accounts_with_waiting_jobs(session=session, limit=limit)
    for job in unconfirmed:
        logger.warning("re-publishing the task of job %s (its publish was not confirmed)", job.id)
    await publish(deps, unconfirmed)
    await outbox.publish_stale(deps.sessions, deps.publisher, before=before)
    dispatched = len(unconfirmed)
    for account_id in waiting:
        dispatched += await schedule(deps, account_id)
    await idempotency.purge(deps.sessions)
    return dispatched
