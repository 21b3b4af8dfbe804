"""The Encode API's classic flow: POST /jobs, approvals, confirmations, bulk, statuses, deletes.

Bulk routes are registered before `/jobs/{id}/...` so that `bulk` is never taken for a job id.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import grpc
from aiohttp import web

from gateway import classic_views, views
from gateway.auth import requires
from gateway.clients import CLIENTS, call_options
from gateway.destinations import S3ObjectSource, object_source
from gateway.downloads import download_url
from gateway.idempotency import idempotency_of
from gateway.jobview import read_job, remember
from gateway.options import API_DEFAULTS, given, options_of
from gateway.schemas import (
    ApproveRequest,
    BulkConfirmRequest,
    BulkCreateRequest,
    ConfirmRequest,
    JobCreateRequest,
    read_json,
    read_raw,
    validate,
)
from gateway.uploads import upload_target
from protos.common.v1 import storage_pb2
from protos.jobs.v1 import jobs_pb2
from services.common.clock import utcnow
from services.common.errors import FieldViolation, InvalidArgument, NotFound, R

routes = web.RouteTableDef()

_BULK_STATUS_MAX = 100


def _create_request(body: JobCreateRequest, defaults: dict[str, Any] | None = None) -> jobs_pb2.CreateJobRequest:
    body.check_supported()
    source = storage_pb2.SourceRef(url=body.source_url) if body.source_url else None
    if body.source_s3 is not None:
        source = object_source(validate(S3ObjectSource, body.source_s3, prefix="sourceS3"))
    return jobs_pb2.CreateJobRequest(
        options=options_of(body, {**API_DEFAULTS, **(defaults or {})}),
        source_ref=source,
        external_id=body.external_id or "",
        metadata_json=json.dumps(body.metadata, separators=(",", ":")) if body.metadata is not None else "",
        priority=body.priority,
        mode=jobs_pb2.JOB_MODE_CLASSIC,
        confirm=body.confirm,
        original_filename=body.original_filename or "",
    )


def _has_source(source: storage_pb2.Source) -> bool:
    return bool(source.url or source.blob_key or source.HasField("s3") or source.HasField("google_drive"))


def _created(request: web.Request, job: jobs_pb2.Job) -> dict[str, Any]:
    upload = None
    if job.status == jobs_pb2.JOB_STATUS_CREATED and not _has_source(job.source):
        upload = upload_target(request, job.id, uuid.UUID(job.account_id))
    return classic_views.created(job, upload, download_url(request, job, utcnow()))


@routes.post("/jobs/bulk")
@requires("jobs:create")
async def create_bulk(request: web.Request) -> web.Response:
    raw = await read_raw(request)
    body = validate(BulkCreateRequest, raw)
    body.settings.check_supported()
    shared = given(body.settings)  # the settings fill in what a job leaves out
    items = []
    for item in body.jobs:
        item.confirm = item.confirm or body.settings.confirm
        items.append(_create_request(item, shared))
    answer = await request.app[CLIENTS].jobs.CreateJobs(
        jobs_pb2.CreateJobsRequest(
            jobs=items,
            fail_fast=body.settings.fail_fast,
            dry_run=body.settings.dry_run,
            idempotency=idempotency_of(request, "jobs.bulk", raw),
        ),
        **call_options(request),
    )
    for result in answer.results:
        if result.HasField("job"):
            remember(request, result.job)
    return web.json_response(classic_views.bulk(answer, []))


@routes.get("/jobs/bulk/status")
@requires("jobs:read")
async def bulk_status(request: web.Request) -> web.Response:
    ids = [i.strip() for i in request.query.get("ids", "").split(",") if i.strip()]
    if not ids or len(ids) > _BULK_STATUS_MAX:
        raise InvalidArgument(
            f"Give 1 to {_BULK_STATUS_MAX} job ids, comma-separated, in `ids`.",
            reason=R.REQUEST_INVALID,
            violations=[FieldViolation("ids", f"1 to {_BULK_STATUS_MAX} comma-separated job ids")],
        )
    ids = list(dict.fromkeys(ids))

    async def one(job_id: str) -> jobs_pb2.Job | None:
        try:
            return await read_job(request, job_id)
        except NotFound:
            return None
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    found = await asyncio.gather(*(one(i) for i in ids))
    now = utcnow()
    return web.json_response(
        {
            "jobs": [classic_views.status(job, download_url(request, job, now)) for job in found if job is not None],
            "missing": [job_id for job_id, job in zip(ids, found, strict=True) if job is None],
        }
    )


@routes.post("/jobs/bulk/confirm")
@requires("jobs:create")
async def confirm_bulk(request: web.Request) -> web.Response:
    body = await read_json(request, BulkConfirmRequest)
    body.settings.check_supported()
    answer = await request.app[CLIENTS].jobs.ConfirmJobs(
        jobs_pb2.ConfirmJobsRequest(job_ids=body.job_ids, options=options_of(body.settings)), **call_options(request)
    )
    for job in answer.jobs:
        remember(request, job)
    now = utcnow()
    return web.json_response(classic_views.bulk_confirmed(answer, [download_url(request, j, now) for j in answer.jobs]))


@routes.post("/jobs")
@requires("jobs:create")
async def create_job(request: web.Request) -> web.Response:
    raw = await read_raw(request)
    message = _create_request(validate(JobCreateRequest, raw))
    message.idempotency.CopyFrom(idempotency_of(request, "jobs.create", raw) or jobs_pb2.Idempotency())
    job = await request.app[CLIENTS].jobs.CreateJob(message, **call_options(request))
    return web.json_response(_created(request, remember(request, job)))


@routes.get("/jobs/{job_id}/status")
@requires("jobs:read")
async def job_status(request: web.Request) -> web.Response:
    job = await read_job(request, request.match_info["job_id"])
    return web.json_response(classic_views.status(job, download_url(request, job, utcnow())))


@routes.get("/jobs/{job_id}/probe-duration")
@requires("jobs:read")
async def probe_duration(request: web.Request) -> web.Response:
    answer = await request.app[CLIENTS].jobs.ProbeJob(
        jobs_pb2.ProbeJobRequest(job_id=request.match_info["job_id"]), **call_options(request)
    )
    seconds = round(answer.duration_sec, 3)
    return web.json_response({"durationSec": seconds, "durationMinutes": round(seconds / 60.0, 4)})


@routes.post("/jobs/{job_id}/approve-unified")
@requires("jobs:create")
async def approve(request: web.Request) -> web.Response:
    body = await read_json(request, ApproveRequest, optional=True)
    body.check_supported()
    answer = await request.app[CLIENTS].jobs.ApproveJob(
        jobs_pb2.ApproveJobRequest(job_id=request.match_info["job_id"], options=options_of(body)),
        **call_options(request),
    )
    remember(request, answer.job)
    return web.json_response(
        {
            "ok": True,
            "estimate": classic_views.estimate(answer.estimate),
            "warnings": views.warnings(answer.job),
        }
    )


@routes.post("/jobs/{job_id}/confirm")
@requires("jobs:create")
async def confirm(request: web.Request) -> web.Response:
    body = await read_json(request, ConfirmRequest, optional=True)
    body.check_supported()
    job = await request.app[CLIENTS].jobs.ConfirmJob(
        jobs_pb2.ConfirmJobRequest(job_id=request.match_info["job_id"], options=options_of(body)),
        **call_options(request),
    )
    remember(request, job)
    return web.json_response({"ok": True, "jobId": job.id, "status": views.ENCODE_STATUS[job.status]})


@routes.post("/jobs/{job_id}/cancel")
@requires("jobs:cancel")
async def cancel(request: web.Request) -> web.Response:
    answer = await request.app[CLIENTS].jobs.CancelJob(
        jobs_pb2.CancelJobRequest(job_id=request.match_info["job_id"]), **call_options(request)
    )
    remember(request, answer.job)
    return web.json_response(views.cancel_result(answer))


@routes.delete("/jobs/{job_id}")
@requires("jobs:cancel")
async def delete_files(request: web.Request) -> web.Response:
    answer = await request.app[CLIENTS].jobs.DeleteJob(
        jobs_pb2.DeleteJobRequest(job_id=request.match_info["job_id"]), **call_options(request)
    )
    remember(request, answer.job)
    return web.json_response(
        {"ok": True, "jobId": answer.job.id, "objectsDeleted": answer.objects_deleted, "jobRetained": True}
    )
