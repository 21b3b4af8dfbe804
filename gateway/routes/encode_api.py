"""The Encode API (Convertrilo-compatible): /ondemand/*."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway import views
from gateway.auth import CALLER, requires
from gateway.clients import CLIENTS
from gateway.destinations import GoogleDriveOutput, S3Output, destination
from gateway.downloads import download_url, public_base
from gateway.idempotency import idempotency_of
from gateway.jobview import JOB_VIEW, read_job, remember
from gateway.options import options_of
from gateway.schemas import EncodeSettings, OnDemandEncodeRequest, read_raw, validate
from protos.common.v1 import storage_pb2
from protos.jobs.v1 import jobs_pb2
from services.common.clock import utcnow

routes = web.RouteTableDef()


def metadata_json(body: EncodeSettings) -> str:
    return json.dumps(body.metadata, separators=(",", ":")) if body.metadata is not None else ""


@routes.post("/ondemand/encode")
@requires("jobs:create")
async def ondemand_encode(request: web.Request) -> web.Response:
    raw = await read_raw(request)
    body = validate(OnDemandEncodeRequest, raw)
    body.check_supported()
    clients, caller = request.app[CLIENTS], request[CALLER]
    if body.source_file_id is not None:  # an uploaded file: ingest resolves it (another account's is not found)
        source = storage_pb2.SourceRef(file_id=body.source_file_id)
    else:
        source = storage_pb2.SourceRef(url=body.source_url or "")
    output = destination(
        body.output_expiry,
        validate(S3Output, body.output_s3, prefix="outputS3") if body.output_s3 is not None else None,
        validate(GoogleDriveOutput, body.output_google_drive, prefix="outputGoogleDrive")
        if body.output_google_drive is not None
        else None,
    )
    job = await clients.jobs.CreateJob(
        jobs_pb2.CreateJobRequest(
            options=options_of(body),
            source_ref=source,
            destination_ref=output,
            external_id=body.external_id or "",
            metadata_json=metadata_json(body),
            priority=body.priority,
            mode=jobs_pb2.JOB_MODE_ON_DEMAND,
            idempotency=idempotency_of(request, "ondemand.encode", raw),
            callback_url=body.webhook or "",  # webhooks checks its address before the job exists
        ),
        timeout=clients.timeout,
        metadata=caller.metadata,
    )
    return web.json_response(views.encode_created(remember(request, job)))


@routes.get("/ondemand/status/{job_id}")
@requires("jobs:read")
async def ondemand_status(request: web.Request) -> web.Response:
    job = await read_job(request, request.match_info["job_id"])

    def render() -> dict[str, Any]:
        now = utcnow()
        return views.encode_status(job, download_url(request, job, now), now)

    body = request.app[JOB_VIEW].body(job, f"ondemand {public_base(request)}", render)
    return web.Response(body=body, content_type="application/json")


@routes.delete("/ondemand/{job_id}")
@requires("jobs:cancel")
async def ondemand_cancel(request: web.Request) -> web.Response:
    clients, caller = request.app[CLIENTS], request[CALLER]
    answer = await clients.jobs.CancelJob(
        jobs_pb2.CancelJobRequest(job_id=request.match_info["job_id"]),
        timeout=clients.timeout,
        metadata=caller.metadata,
    )
    remember(request, answer.job)
    return web.json_response(views.cancel_result(answer))
