"""Creating jobs: validate, inspect the source, price it, reserve credits, store, dispatch.

The job, its credit reservation and its idempotency answer are written in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlmodel.ext.asyncio.session import AsyncSession

from protos.common.v1 import errors_pb2, storage_pb2
from protos.jobs.v1 import jobs_pb2
from services.common import blobkeys
from services.common.clock import utcnow
from services.common.errors import DomainError
from services.common.identity import Principal
from services.jobs import outbox, pricing, protomap, repository
from services.jobs.domain import credits, dispatch, idempotency
from services.jobs.domain.deps import Deps, SourceInfo
from services.jobs.domain.requests import EXTENSIONS, NewJob, output_filename
from services.jobs.models import CreditAccount, Job
from services.jobs.states import JobState

logger = logging.getLogger(__name__)

_INSPECT_AT_ONCE = 8  # source checks of a bulk request in flight together


@dataclass(frozen=True)
class Prepared:
    """A request resolved and checked against its source, priced, ready to store."""

    request: NewJob
    source: SourceInfo | None
    estimate: pricing.Estimate | None  # None: nothing to reserve yet (the classic flow)
    resolved: storage_pb2.Source | None = None  # the source as ingest resolved it (None: none yet)
    deliver_to: storage_pb2.Destination | None = None  # the customer bucket or folder, sealed
    callback_url: str = ""  # as webhooks will post to it


def estimate_for(job_options: Mapping[str, object], duration: float | None, *, on_demand: bool) -> pricing.Estimate:
    return pricing.estimate(
        codec=str(job_options["codec"]),
        resolution=str(job_options["resolution"]),
        passes=int(str(job_options["passes"])),
        duration_sec=duration,
        on_demand=on_demand,
    )


async def prepare(deps: Deps, request: NewJob) -> Prepared:
    """Resolves what the caller named through its owners (the source and destination by ingest, a callback URL by
    webhooks), checks the source (and probes it for its duration), and prices the job when it will queue."""
    source, found = request.source, None
    if request.source_ref is not None:
        source, found = await deps.resolve_source(request.source_ref, True)
    elif source is not None:
        found = await deps.inspect_source(source, True)
    deliver_to = request.deliver_to
    if request.destination_ref is not None:
        deliver_to = await deps.resolve_destination(request.destination_ref)
    elif deliver_to is not None:
        await deps.check_destination(deliver_to)
    callback = await deps.check_callback(request.callback_url) if request.callback_url else ""
    queues_now = request.on_demand or (request.confirm and found is not None)
    value = estimate_for(request.options, found.duration if found else None, on_demand=request.on_demand)
    return Prepared(request, found, value if queues_now else None, source, deliver_to, callback)


def build(principal: Principal, prepared: Prepared) -> Job:
    request, found, source = prepared.request, prepared.source, prepared.resolved
    now, job_id = utcnow(), uuid.uuid4()
    container = str(request.options["container"])
    filename = request.filename or (found.filename[:255] if found else "")
    queued = prepared.estimate is not None
    return Job(
        id=job_id,
        account_id=principal.account_id,
        status=(JobState.QUEUED if queued else JobState.CREATED).value,
        mode="on_demand" if request.on_demand else "classic",
        options=request.options,
        source_url=source.url if source is not None and source.url else None,
        source_key=source.blob_key if source is not None and source.blob_key else None,
        source_filename=filename,
        duration_sec=found.duration if found else None,
        source_probe=protomap.probe_to_dict(found.probe) if found and found.probe else None,
        external_id=request.external_id or None,
        metadata_json=request.metadata_json or None,
        priority=request.priority,
        output_expiry_seconds=request.output_expiry,
        output_key=blobkeys.output(job_id, EXTENSIONS[container]),
        output_filename=output_filename(filename or "output", str(request.options["resolution"]), container),
        source_spec=_customer(source),
        destination=prepared.deliver_to.SerializeToString() if prepared.deliver_to is not None else None,
        callback_url=prepared.callback_url or None,
        created_at=now,
        queued_at=now if queued else None,
        updated_at=now,
    )


def _customer(source: storage_pb2.Source | None) -> bytes | None:
    """A customer file's source as stored (its credentials sealed); None for URLs and uploads."""
    if source is None or source.WhichOneof("kind") not in ("s3", "google_drive"):
        return None
    return source.SerializeToString()


async def _insert(
    deps: Deps,
    session: AsyncSession,
    principal: Principal,
    prepared: Prepared,
    job: Job,
    account: CreditAccount | None = None,
) -> None:
    """Writes the job, its created (and queued) events and reserves its credits (402 when they do not
    suffice, and then nothing is written), in the session. `account`: already locked in this transaction
    (a bulk create)."""
    value = prepared.estimate
    if value is not None:
        if account is None:
            account = await credits.lock_account(session, principal.account_id, deps.policy.trial)
        await credits.reserve(session, account, job.id, value.total, new=True)
        job.estimate_neu, job.reserved_neu = value.total, value.total
        job.pricing = pricing.pricing(value, value.total)
    outbox.stage(session, job, None)  # priced and reserved: its events carry the reservation
    now = utcnow()
    found = prepared.source
    details = {"filename": found.filename, "size": found.size, "duration": found.duration} if found else None
    message = "Job queued" if job.status == JobState.QUEUED.value else "Job created"
    repository.add_log(session=session, job_id=job.id, level="INFO", message=message, at=now, details=details)
    if found is not None and found.probe_error:
        repository.add_log(session=session, job_id=job.id, level="WARNING", message=found.probe_error, at=now)


async def create_job(
    deps: Deps, *, principal: Principal, request: NewJob, idem: idempotency.Idem | None = None
) -> jobs_pb2.Job:
    """One job. With an Idempotency-Key, a repeat gets the first answer back."""
    if idem is not None:
        replay = await idempotency.begin(deps.sessions, principal.account_id, idem)
        if replay is not None:
            return jobs_pb2.Job.FromString(replay)
    try:
        prepared = await prepare(deps, request)
        job = build(principal, prepared)
        async with deps.sessions.begin() as session:
            await _insert(deps, session, principal, prepared, job)
            answer = protomap.job_to_proto(job)
            if idem is not None:
                await idempotency.finish(session, principal.account_id, idem, answer.SerializeToString())
    except DomainError:
        if idem is not None:
            await idempotency.abandon(deps.sessions, principal.account_id, idem)
        raise
    await dispatch.announce(deps, job)
    await _after_create(deps, job, principal)
    return answer


async def _after_create_many(deps: Deps, jobs: Sequence[Job], principal: Principal) -> None:
    """One scheduling round for the account and one publish of every new job's events."""
    try:
        if any(job.status == JobState.QUEUED.value for job in jobs):
            await dispatch.schedule(deps, principal.account_id)
        await dispatch.publish_states(deps, jobs)
    except Exception:
        logger.exception("dispatch after creating %d jobs failed; the sweeper will retry", len(jobs))


async def _after_create(deps: Deps, job: Job, principal: Principal) -> None:
    try:
        if job.status == JobState.QUEUED.value:
            await dispatch.schedule(deps, principal.account_id)
        await dispatch.publish_state(deps, job)
    except Exception:
        # The job and its events are stored: the sweeper dispatches and publishes once NATS answers again.
        logger.exception("dispatch after creating job %s failed; the sweeper will retry", job.id)


async def create_jobs(
    deps: Deps,
    *,
    principal: Principal,
    requests: Sequence[NewJob],
    fail_fast: bool,
    dry_run: bool,
    idem: idempotency.Idem | None = None,
) -> jobs_pb2.CreateJobsResponse:
    """Many jobs. fail_fast: nothing is created when one fails; dry_run: nothing at all is stored."""
    if idem is not None and not dry_run:
        replay = await idempotency.begin(deps.sessions, principal.account_id, idem)
        if replay is not None:
            return jobs_pb2.CreateJobsResponse.FromString(replay)
    try:
        answer, created = await _create_many(deps, principal, requests, fail_fast=fail_fast, dry_run=dry_run, idem=idem)
    except DomainError:
        if idem is not None and not dry_run:
            await idempotency.abandon(deps.sessions, principal.account_id, idem)
        raise
    for job in created:
        await dispatch.announce(deps, job)
    if created:
        await _after_create_many(deps, created, principal)
    return answer


async def _create_many(
    deps: Deps,
    principal: Principal,
    requests: Sequence[NewJob],
    *,
    fail_fast: bool,
    dry_run: bool,
    idem: idempotency.Idem | None,
) -> tuple[jobs_pb2.CreateJobsResponse, list[Job]]:
    gate = asyncio.Semaphore(_INSPECT_AT_ONCE)
    deps = replace(deps, resolve_destination=_once_each(deps.resolve_destination))  # a folder's jobs share one

    async def checked(request: NewJob) -> Prepared | DomainError:
        async with gate:
            try:
                return await prepare(deps, request)
            except DomainError as exc:
                return exc

    outcomes = await asyncio.gather(*(checked(r) for r in requests))
    answer = jobs_pb2.CreateJobsResponse(total_jobs=len(requests))
    failed = any(isinstance(o, DomainError) for o in outcomes)
    created: list[Job] = []
    account: CreditAccount | None = None
    async with deps.sessions.begin() as session:
        for index, outcome in enumerate(outcomes):
            result = answer.results.add(index=index)
            if isinstance(outcome, DomainError):
                result.error_reason, result.error = _error(outcome)
                continue
            value = outcome.estimate or estimate_for(
                outcome.request.options, outcome.source.duration if outcome.source else None, on_demand=False
            )
            result.estimate.CopyFrom(_estimate_proto(value, 0))
            answer.total_estimated_neu += value.total
            if dry_run or (fail_fast and failed):
                continue
            job = build(principal, outcome)
            if account is None:  # locked once for the whole batch
                account = await credits.lock_account(session, principal.account_id, deps.policy.trial)
            try:
                await _insert(deps, session, principal, outcome, job, account)
            except DomainError as exc:  # e.g. the credits ran out part way through: this one is not written
                result.error_reason, result.error = _error(exc)
                continue
            answer.reserved += job.reserved_neu
            result.job.CopyFrom(protomap.job_to_proto(job))
            created.append(job)
        if idem is not None and not dry_run:
            await idempotency.finish(session, principal.account_id, idem, answer.SerializeToString())
    return answer, created


def _once_each(
    resolve: Callable[[storage_pb2.DestinationRef], Awaitable[storage_pb2.Destination]],
) -> Callable[[storage_pb2.DestinationRef], Awaitable[storage_pb2.Destination]]:
    """Resolves each distinct destination once (a folder's thousand jobs deliver to one bucket), concurrent
    callers waiting for the same answer or error."""
    answers: dict[bytes, asyncio.Task[storage_pb2.Destination]] = {}

    async def once(ref: storage_pb2.DestinationRef) -> storage_pb2.Destination:
        key = ref.SerializeToString(deterministic=True)
        if key not in answers:
            answers[key] = asyncio.ensure_future(resolve(ref))
        return await asyncio.shield(answers[key])

    return once


def _error(exc: DomainError) -> tuple[errors_pb2.ErrorReason.ValueType, str]:
    return exc.reason, exc.message


def _estimate_proto(value: pricing.Estimate, reserved: int) -> jobs_pb2.Estimate:
    return jobs_pb2.Estimate(
        base_per_minute=value.base_per_minute,
        on_demand_per_minute=value.on_demand_per_minute,
        multiplier=value.multiplier,
        total_neu=value.total,
        reserved=reserved,
        requested_passes=value.requested_passes,
        effective_passes=value.effective_passes,
        duration_sec=value.duration_sec or 0.0,
    )
