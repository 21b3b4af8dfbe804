"""The classic flow: create -> upload -> probe -> approve (price + reserve) -> confirm (queue)."""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from protos.common.v1 import media_pb2
from services.common import blobkeys
from services.common.clock import utcnow
from services.common.errors import DomainError, FailedPrecondition, NotFound, R, Reason
from services.common.identity import Principal
from services.jobs import options as encode_options
from services.jobs import outbox, pricing, protomap, repository
from services.jobs.domain import credits, dispatch
from services.jobs.domain.create import estimate_for
from services.jobs.domain.deps import Deps
from services.jobs.domain.queries import owned
from services.jobs.domain.requests import output_filename
from services.jobs.models import Job
from services.jobs.states import JobState, check_transition

logger = logging.getLogger(__name__)


def _created(job: Job) -> None:
    if job.status != JobState.CREATED.value:
        raise FailedPrecondition(f"The job is {job.status}; only a created job can change.", reason=R.JOB_ACTIVE)


async def attach_upload(
    deps: Deps, *, principal: Principal, job_id: str, blob_key: str, size: int, filename: str
) -> Job:
    """Records that the job's upload arrived: it becomes the job's source."""
    async with deps.sessions.begin() as session:
        job = await owned(session, principal, job_id)
        before = outbox.snapshot(job)
        if blob_key != blobkeys.upload_source(job.account_id, str(job.id)):
            # Only the job's own upload: any other key (another account's output, a file) is not found.
            raise NotFound("No such upload.", reason=R.FILE_NOT_FOUND)
        _created(job)
        if job.reserved_neu or job.source_url:
            raise FailedPrecondition("The job's source can no longer change.", reason=R.JOB_ACTIVE)
        job.source_key, job.source_url, job.uploaded_at = blob_key, None, utcnow()
        job.duration_sec = job.source_probe = None  # a replaced upload is probed afresh
        job.source_filename = (filename or job.source_filename or posixpath.basename(blob_key))[:255]
        options = job.options
        job.output_filename = output_filename(
            job.source_filename, str(options["resolution"]), str(options["container"])
        )
        outbox.stage(session, job, before)
        repository.add_log(
            session=session, job_id=job.id, level="INFO", message="Upload received", at=utcnow(), details={"size": size}
        )
    await dispatch.announce(deps, job)
    return job


async def _probe(deps: Deps, job: Job) -> media_pb2.MediaProbe:
    """The source's probe; a refusal (unreadable, unreachable, too slow) is also written to the job's
    log, since the job stays created and its log is where its owner looks for why."""
    if not job.source_url and not job.source_key:
        raise FailedPrecondition("The job has no source yet: upload it first.", reason=R.REQUEST_INVALID)
    try:
        found = await deps.inspect_source(protomap.source_of(job), True)
        if found.probe is None:
            raise FailedPrecondition(found.probe_error or "The source could not be probed.", reason=R.PROBE_FAILED)
    except DomainError as exc:
        async with deps.sessions.begin() as session:  # its own transaction: the refusal is what is kept
            repository.add_log(
                session=session,
                job_id=job.id,
                level="WARNING",
                message=exc.message,
                at=utcnow(),
                details={"step": "probe", "reason": exc.reason_name},
            )
        raise
    return found.probe


async def probe_job(deps: Deps, *, principal: Principal, job_id: str) -> media_pb2.MediaProbe:
    """The source's probe (and duration), stored with the job."""
    job = await get_owned(deps, principal, job_id)
    probe = await _probe(deps, job)
    async with deps.sessions.begin() as session:
        stored = await owned(session, principal, job_id)
        before = outbox.snapshot(stored)
        stored.duration_sec, stored.source_probe = probe.duration_sec, protomap.probe_to_dict(probe)
        outbox.stage(session, stored, before)
    await dispatch.announce(deps, stored)
    return probe


async def get_owned(deps: Deps, principal: Principal, job_id: str) -> Job:
    async with deps.sessions.begin() as session:
        return await owned(session, principal, job_id)


def _override(job: Job, overrides: Mapping[str, object]) -> None:
    given = {k: v for k, v in overrides.items() if v}
    if given:
        job.options = encode_options.normalize({**job.options, **given})
        job.output_filename = output_filename(
            job.source_filename or "output", str(job.options["resolution"]), str(job.options["container"])
        )


async def _reserve(deps: Deps, session: AsyncSession, job: Job) -> pricing.Estimate:
    """Prices the job with its known duration and holds exactly that (re-pricing releases first)."""
    value = estimate_for(job.options, job.duration_sec, on_demand=job.mode == "on_demand")
    account = await credits.lock_account(session, job.account_id, deps.policy.trial)
    await credits.release(session, account, job.id)
    await credits.reserve(session, account, job.id, value.total)
    job.estimate_neu = job.reserved_neu = value.total
    job.pricing = pricing.pricing(value, value.total)
    return value


async def approve_job(
    deps: Deps, *, principal: Principal, job_id: str, overrides: Mapping[str, object]
) -> tuple[Job, pricing.Estimate]:
    """Probes (when not done yet), prices and reserves; the job stays created."""
    job = await get_owned(deps, principal, job_id)
    _created(job)
    probe = await _probe(deps, job) if job.duration_sec is None else None
    async with deps.sessions.begin() as session:
        job = await owned(session, principal, job_id)
        _created(job)
        before = outbox.snapshot(job)
        if probe is not None:
            job.duration_sec, job.source_probe = probe.duration_sec, protomap.probe_to_dict(probe)
        _override(job, overrides)
        value = await _reserve(deps, session, job)
        outbox.stage(session, job, before)
        repository.add_log(
            session=session, job_id=job.id, level="INFO", message="Approved", at=utcnow(), details={"neu": value.total}
        )
    await dispatch.announce(deps, job)
    return job, value


async def confirm_job(deps: Deps, *, principal: Principal, job_id: str, overrides: Mapping[str, object]) -> Job:
    """Queues a created job (approving it first when it was not)."""
    job = await get_owned(deps, principal, job_id)
    if job.status == JobState.QUEUED.value:
        return job  # confirming twice is harmless
    if job.reserved_neu == 0 or any(overrides.values()):
        job, _ = await approve_job(deps, principal=principal, job_id=job_id, overrides=overrides)
    now = utcnow()
    async with deps.sessions.begin() as session:
        job = await owned(session, principal, job_id)
        before = outbox.snapshot(job)
        check_transition(before.status, JobState.QUEUED)
        job.status, job.queued_at = JobState.QUEUED.value, now
        outbox.stage(session, job, before)  # created -> queued
        repository.add_log(session=session, job_id=job.id, level="INFO", message="Job queued", at=now)
    await dispatch.announce(deps, job)
    await dispatch.schedule(deps, principal.account_id)
    await dispatch.publish_state(deps, job)
    return job


@dataclass(frozen=True)
class Unconfirmed:
    """A job of a bulk confirm that was not queued, and why (a reason of errors.proto)."""

    job_id: str
    reason: Reason
    message: str


async def confirm_jobs(
    deps: Deps, *, principal: Principal, job_ids: Sequence[str], overrides: Mapping[str, object]
) -> tuple[list[Job], list[Unconfirmed]]:
    """Queues each; a job that cannot be (missing, not created, unprobeable, no credits) is reported
    with its reason and the others go ahead."""
    confirmed: list[Job] = []
    failures: list[Unconfirmed] = []
    for job_id in job_ids:
        try:
            confirmed.append(await confirm_job(deps, principal=principal, job_id=job_id, overrides=overrides))
        except DomainError as exc:
            failures.append(Unconfirmed(job_id, exc.reason, exc.message))
        except Exception:
            # Not the caller's doing: logged here with its trace; the answer names the job, not the internals.
            logger.exception("bulk confirm failed on job %s", job_id, extra={"job_id": job_id})
            failures.append(Unconfirmed(job_id, R.INTERNAL, "The job could not be queued; try again."))
    return confirmed, failures


async def delete_job(deps: Deps, *, principal: Principal, job_id: str, hide: bool) -> tuple[Job, int]:
    """Deletes a finished job's files (409 job_active while it may still run); its record and
    billing stay. `hide` also takes the job out of every view (the Media API's delete)."""
    job = await get_owned(deps, principal, job_id)
    if not JobState(job.status).terminal:
        raise FailedPrecondition(f"The job is {job.status}: cancel it first.", reason=R.JOB_ACTIVE)
    keys = [job.output_key, *(t.get("key", "") for t in job.thumbnails or ())]
    if job.source_key and blobkeys.is_upload_of(job.source_key, str(job.id)):
        keys.append(job.source_key)  # the job's own upload; a stored file (files/...) outlives its jobs
    deleted = await deps.delete_objects([k for k in keys if k]) if job.files_deleted_at is None else 0
    now = utcnow()
    async with deps.sessions.begin() as session:
        job = await owned(session, principal, job_id)
        if job.files_deleted_at is None or hide:  # deleting twice changes nothing the second time
            before = outbox.snapshot(job)
            job.files_deleted_at = job.files_deleted_at or now
            if hide:
                job.deleted_at = now
            outbox.stage(session, job, before)
        repository.add_log(
            session=session, job_id=job.id, level="INFO", message="Files deleted", at=now, details={"objects": deleted}
        )
    await dispatch.announce(deps, job)
    return job, deleted
