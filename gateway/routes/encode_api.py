"""The Encode API (Convertrilo-compatible): /ondemand/*."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway import views
from gateway.auth import CALLER, requires
from gateway.clients import CLIENTS
from gateway.downloads import download_url, public_base
from gateway.idempotency import idempotency_of
from gateway.jobview import JOB_VIEW, read_job, remember
from gateway.schemas import OnDemandEncodeRequest, read_raw, validate
from protos.common.v1 import storage_pb2
from protos.jobs.v1 import jobs_pb2
from services.common.clock import utcnow

routes = web.RouteTableDef()


@routes.post("/ondemand/encode")
@requires("jobs:create")
async def ondemand_encode(request: web.Request) -> web.Response:
    raw = await read_raw(request)
    body = validate(OnDemandEncodeRequest, raw)
    body.check_supported()
    clients, caller = request.app[CLIENTS], request[CALLER]
    job = await clients.jobs.CreateJob(
        jobs_pb2.CreateJobRequest(
            options=jobs_pb2.EncodeOptions(
                codec=body.codec,
                resolution=body.resolution,
                container=body.container,
                preset=body.preset,
                quality=body.quality,
                audio_policy=body.audio_policy,
                scale_policy=body.scale_policy,
                fps=body.fps,
                frame_rate_policy=body.frame_rate_policy,
                bitrate_tier=body.bitrate_tier,
                passes=body.passes,
                poster_at_sec=body.poster_at_sec,
            ),
            source=storage_pb2.Source(url=body.source_url),
            destination=storage_pb2.Destination(cdn=storage_pb2.CdnDestination(expiry_seconds=body.output_expiry)),
            external_id=body.external_id or "",
            metadata_json=json.dumps(body.metadata, separators=(",", ":")) if body.metadata is not None else "",
            priority=body.priority,
            mode=jobs_pb2.JOB_MODE_ON_DEMAND,
            idempotency=idempotency_of(request, "ondemand.encode", raw),
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
