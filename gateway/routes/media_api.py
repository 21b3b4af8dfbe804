"""The Media API: /api/v1/*, every answer in its `{"success": ..., "data": ...}` envelope."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gateway import views
from gateway.auth import CALLER, requires
from gateway.clients import CLIENTS, call_options
from gateway.downloads import download_url, serve_blob
from gateway.jobview import read_job, remember
from protos.jobs.v1 import jobs_pb2
from services.common.clock import utcnow
from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, R

routes = web.RouteTableDef()
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def ok(data: Any, message: str | None = None) -> web.Response:
    body: dict[str, Any] = {"success": True, "data": data}
    if message:
        body["message"] = message
    return web.json_response(body)


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidArgument(
            "Request validation failed",
            reason=R.REQUEST_INVALID,
            violations=[FieldViolation(name, f"must be an integer from {low} to {high}")],
        )
    return int(raw)


@routes.get("/api/v1/jobs")
@requires("jobs:read")
async def list_jobs(request: web.Request) -> web.Response:
    page = _int_param(request, "page", 1, 1, 1_000_000)
    per_page = _int_param(request, "items_per_page", 20, 1, 100)
    status_name = request.query.get("status")
    if status_name is not None and status_name not in views.MEDIA_STATUS_FILTER:
        raise InvalidArgument(
            "Request validation failed",
            reason=R.REQUEST_INVALID,
            violations=[FieldViolation("status", f"must be one of {', '.join(views.MEDIA_STATUS_FILTER)}")],
        )
    message = jobs_pb2.ListJobsRequest(
        page=page,
        page_size=per_page,
        status=views.MEDIA_STATUS_FILTER.get(status_name or "", jobs_pb2.JOB_STATUS_UNSPECIFIED),
        cursor=request.query.get("cursor", ""),
        external_id=request.query.get("external_id", ""),
    )
    for name in ("created_after", "created_before"):
        if name in request.query:
            getattr(message, name).FromDatetime(_time_param(request, name))
    response = await request.app[CLIENTS].jobs.ListJobs(message, **call_options(request))
    now = utcnow()
    pages = max(1, -(-response.total // per_page))
    return ok(
        {
            "items": [views.media_job(job, download_url(request, job, now)) for job in response.jobs],
            "pagination": {
                "page": page,
                "items_per_page": per_page,
                "total_items": response.total,
                "total_pages": pages,
                "has_next": page < pages if not message.cursor else bool(response.next_cursor),
                "has_previous": page > 1,
                "next_page": page + 1 if page < pages else None,
                "previous_page": page - 1 if page > 1 else None,
                # vidkiln's addition: follow next_cursor for stable, constant-cost deep paging.
                "next_cursor": response.next_cursor or None,
            },
        }
    )


def _time_param(request: web.Request, name: str) -> datetime:
    """An ISO 8601 time (a Z or an offset; naive means UTC)."""
    try:
        value = datetime.fromisoformat(request.query[name].replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidArgument(
            "Request validation failed",
            reason=R.REQUEST_INVALID,
            violations=[FieldViolation(name, "must be an ISO 8601 date-time")],
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@routes.get("/api/v1/jobs/{job_id}")
@requires("jobs:read")
async def get_job(request: web.Request) -> web.Response:
    job = await read_job(request, request.match_info["job_id"])
    return ok(views.media_job(job, download_url(request, job, utcnow())))


@routes.post("/api/v1/jobs/{job_id}/cancel")
@requires("jobs:cancel")
async def cancel_job(request: web.Request) -> web.Response:
    clients, caller = request.app[CLIENTS], request[CALLER]
    answer = await clients.jobs.CancelJob(
        jobs_pb2.CancelJobRequest(job_id=request.match_info["job_id"]),
        timeout=clients.timeout,
        metadata=caller.metadata,
    )
    return ok(views.media_job(remember(request, answer.job), None), answer.note or "Job cancelled")


@routes.delete("/api/v1/jobs/{job_id}")
@requires("jobs:cancel")
async def delete_job(request: web.Request) -> web.Response:
    """Deletes a finished job's files and takes the job out of every list (409 while it runs)."""
    answer = await request.app[CLIENTS].jobs.DeleteJob(
        jobs_pb2.DeleteJobRequest(job_id=request.match_info["job_id"], hide=True), **call_options(request)
    )
    remember(request, answer.job)
    return ok({"id": answer.job.id, "deleted": True, "objects_deleted": answer.objects_deleted}, "Job deleted")


@routes.get("/api/v1/jobs/{job_id}/logs")
@requires("jobs:read")
async def job_logs(request: web.Request) -> web.Response:
    limit = _int_param(request, "limit", 100, 1, 1000)
    offset = _int_param(request, "offset", 0, 0, 10_000_000)
    level = request.query.get("level", "").upper()
    if level and level not in _LEVELS:
        raise InvalidArgument(
            "Request validation failed",
            reason=R.REQUEST_INVALID,
            violations=[FieldViolation("level", f"must be one of {', '.join(_LEVELS)}")],
        )
    answer = await request.app[CLIENTS].jobs.GetJobLogs(
        jobs_pb2.GetJobLogsRequest(job_id=request.match_info["job_id"], limit=limit, offset=offset, level=level),
        **call_options(request),
    )
    return ok(
        {
            "logs": [
                {
                    "timestamp": views.iso(entry.at, entry.HasField("at")),
                    "level": entry.level,
                    "message": entry.message,
                    "details": json.loads(entry.details_json) if entry.details_json else None,
                }
                for entry in answer.logs
            ],
            "total_logs": answer.total,
            "has_more": offset + len(answer.logs) < answer.total,
        }
    )


@routes.get("/api/v1/videos/{job_id}/thumbnail")
@requires("jobs:read")
async def video_thumbnail(request: web.Request) -> web.StreamResponse:
    size = request.query.get("size", "medium")
    if size not in ("small", "medium", "large"):
        raise InvalidArgument(
            "Request validation failed",
            reason=R.REQUEST_INVALID,
            violations=[FieldViolation("size", "must be one of small, medium, large")],
        )
    job = await read_job(request, request.match_info["job_id"])
    poster = next((t for t in job.thumbnails if t.filename == f"poster-{size}.jpg"), None)
    if poster is None:
        raise FailedPrecondition("The video has no thumbnail yet.", reason=R.OUTPUT_NOT_AVAILABLE)
    return await serve_blob(request, poster.key, content_type="image/jpeg", inline=True)


@routes.get("/api/v1/videos/{job_id}/download")
@requires("jobs:read")
async def video_download(request: web.Request) -> web.StreamResponse:
    """The encoded video (the link Media API webhooks carry): Range, ETag, as an attachment."""
    job = await read_job(request, request.match_info["job_id"])
    if job.status != jobs_pb2.JOB_STATUS_SUCCEEDED or not job.output.key:
        raise FailedPrecondition("The video is not ready.", reason=R.OUTPUT_NOT_AVAILABLE)
    return await serve_blob(
        request, job.output.key, name=job.output_filename, content_type=job.output.content_type or None
    )
