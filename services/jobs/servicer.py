"""JobService over gRPC: proto <-> domain, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc

from protos.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from services.common.identity import current_principal
from services.common.timestamps import timestamp
from services.jobs import domain, pricing, protomap
from services.jobs.domain import credits

Context = grpc.aio.ServicerContext[Any, Any]


def _new_job(request: jobs_pb2.CreateJobRequest) -> domain.NewJob:
    return domain.new_job(
        options=protomap.options_from_proto(request.options),
        source=request.source if request.HasField("source") else None,
        external_id=request.external_id,
        metadata_json=request.metadata_json,
        priority=request.priority,
        output_expiry=request.destination.cdn.expiry_seconds or request.destination_ref.expiry_seconds,
        on_demand=request.mode != jobs_pb2.JOB_MODE_CLASSIC,
        confirm=request.confirm,
        filename=request.original_filename,
        destination=request.destination,
        callback_url=request.callback_url,
        source_ref=request.source_ref if request.HasField("source_ref") else None,
        destination_ref=request.destination_ref if request.HasField("destination_ref") else None,
    )


def _idem(message: jobs_pb2.Idempotency) -> domain.Idem | None:
    return domain.Idem(message.key, message.route, message.request_hash) if message.key else None


def _when(ts: Any, present: bool) -> datetime | None:
    return ts.ToDatetime(tzinfo=UTC) if present else None


def _balance(value: credits.Balance) -> jobs_pb2.Balance:
    return jobs_pb2.Balance(
        available=value.available,
        reserved=value.reserved,
        trial_remaining=value.trial_remaining,
        trial_expires_at=timestamp(value.trial_expires_at),
    )


def _estimate(value: pricing.Estimate, reserved: int) -> jobs_pb2.Estimate:
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


class JobServicer(jobs_pb2_grpc.JobServiceServicer):
    def __init__(self, deps: domain.Deps) -> None:
        self._deps = deps

    async def CreateJob(self, request: jobs_pb2.CreateJobRequest, context: Context) -> jobs_pb2.Job:
        return await domain.create_job(
            self._deps, principal=current_principal(), request=_new_job(request), idem=_idem(request.idempotency)
        )

    async def GetJob(self, request: jobs_pb2.GetJobRequest, context: Context) -> jobs_pb2.Job:
        job = await domain.get_job(self._deps, principal=current_principal(), job_id=request.job_id)
        return protomap.job_to_proto(job)

    async def ListJobs(self, request: jobs_pb2.ListJobsRequest, context: Context) -> jobs_pb2.ListJobsResponse:
        filters = domain.Filters(
            status=protomap.STATUS_FROM_PROTO.get(request.status),
            created_after=_when(request.created_after, request.HasField("created_after")),
            created_before=_when(request.created_before, request.HasField("created_before")),
            external_id=request.external_id,
        )
        jobs, total, cursor = await domain.list_jobs(
            self._deps,
            principal=current_principal(),
            page=request.page or 1,
            page_size=request.page_size or 20,
            filters=filters,
            cursor=request.cursor,
        )
        return jobs_pb2.ListJobsResponse(jobs=[protomap.job_to_proto(j) for j in jobs], total=total, next_cursor=cursor)

    async def CancelJob(self, request: jobs_pb2.CancelJobRequest, context: Context) -> jobs_pb2.CancelJobResponse:
        job, changed, note, released = await domain.cancel_job(
            self._deps, principal=current_principal(), job_id=request.job_id
        )
        return jobs_pb2.CancelJobResponse(job=protomap.job_to_proto(job), changed=changed, note=note, released=released)

    async def GetJobLogs(self, request: jobs_pb2.GetJobLogsRequest, context: Context) -> jobs_pb2.GetJobLogsResponse:
        rows, total = await domain.get_logs(
            self._deps,
            principal=current_principal(),
            job_id=request.job_id,
            limit=request.limit or 100,
            offset=request.offset,
            level=request.level,
        )
        return jobs_pb2.GetJobLogsResponse(logs=[protomap.log_to_proto(r) for r in rows], total=total)

    async def DeleteJob(self, request: jobs_pb2.DeleteJobRequest, context: Context) -> jobs_pb2.DeleteJobResponse:
        job, deleted = await domain.delete_job(
            self._deps, principal=current_principal(), job_id=request.job_id, hide=request.hide
        )
        return jobs_pb2.DeleteJobResponse(objects_deleted=deleted, job=protomap.job_to_proto(job))

    async def AttachUpload(self, request: jobs_pb2.AttachUploadRequest, context: Context) -> jobs_pb2.Job:
        job = await domain.attach_upload(
            self._deps,
            principal=current_principal(),
            job_id=request.job_id,
            blob_key=request.blob_key,
            size=request.size_bytes,
            filename=request.filename,
        )
        return protomap.job_to_proto(job)

    async def ProbeJob(self, request: jobs_pb2.ProbeJobRequest, context: Context) -> jobs_pb2.ProbeJobResponse:
        probe = await domain.probe_job(self._deps, principal=current_principal(), job_id=request.job_id)
        return jobs_pb2.ProbeJobResponse(duration_sec=probe.duration_sec, probe=probe)

    async def ApproveJob(self, request: jobs_pb2.ApproveJobRequest, context: Context) -> jobs_pb2.ApproveJobResponse:
        job, value = await domain.approve_job(
            self._deps,
            principal=current_principal(),
            job_id=request.job_id,
            overrides=protomap.options_from_proto(request.options),
        )
        return jobs_pb2.ApproveJobResponse(
            job=protomap.job_to_proto(job), estimate=_estimate(value, job.reserved_neu), warnings=job.warnings or []
        )

    async def ConfirmJob(self, request: jobs_pb2.ConfirmJobRequest, context: Context) -> jobs_pb2.Job:
        job = await domain.confirm_job(
            self._deps,
            principal=current_principal(),
            job_id=request.job_id,
            overrides=protomap.options_from_proto(request.options),
        )
        return protomap.job_to_proto(job)

    async def CreateJobs(self, request: jobs_pb2.CreateJobsRequest, context: Context) -> jobs_pb2.CreateJobsResponse:
        return await domain.create_jobs(
            self._deps,
            principal=current_principal(),
            requests=[_new_job(item) for item in request.jobs],
            fail_fast=request.fail_fast,
            dry_run=request.dry_run,
            idem=_idem(request.idempotency),
        )

    async def ConfirmJobs(self, request: jobs_pb2.ConfirmJobsRequest, context: Context) -> jobs_pb2.ConfirmJobsResponse:
        jobs, failures = await domain.confirm_jobs(
            self._deps,
            principal=current_principal(),
            job_ids=list(request.job_ids),
            overrides=protomap.options_from_proto(request.options),
        )
        return jobs_pb2.ConfirmJobsResponse(
            queued=len(jobs),
            jobs=[protomap.job_to_proto(j) for j in jobs],
            failures=[
                jobs_pb2.ConfirmJobsFailure(job_id=f.job_id, error_reason=f.reason, error=f.message) for f in failures
            ],
        )

    async def GetBalance(self, request: jobs_pb2.GetBalanceRequest, context: Context) -> jobs_pb2.Balance:
        return _balance(await domain.get_balance(self._deps, principal=current_principal()))

    async def AdjustCredits(
        self, request: jobs_pb2.AdjustCreditsRequest, context: Context
    ) -> jobs_pb2.AdjustCreditsResponse:
        done, balance = await domain.adjust(
            self._deps,
            principal=current_principal(),
            operation=request.operation,
            job_id=request.job_id,
            amount=request.amount,
        )
        return jobs_pb2.AdjustCreditsResponse(amount=done, balance=_balance(balance))
