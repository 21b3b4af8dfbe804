"""One trace id covers the request, the RPCs, the NATS hops and the encoder's work."""

from __future__ import annotations

import asyncio

import aiohttp
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.e2e.helpers import follow, submit
from tests.harness import Platform


async def test_one_trace_from_request_to_encode(
    platform: Platform, source_server: str, spans: InMemorySpanExporter
) -> None:
    async with aiohttp.ClientSession() as http:
        created = await submit(
            http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/silent.mp4"}
        )
        final, _ = await follow(http, platform.base_url, platform.admin_key, created["jobId"])
    assert final["status"] == "success"

    # The status turns success (the read model) a moment before jobs finishes consuming the outcome.
    for _ in range(200):
        finished = spans.get_finished_spans()
        if any(s.name == "consume encode.succeeded" for s in finished):
            break
        await asyncio.sleep(0.05)
    request = next(s for s in finished if s.name == "POST /ondemand/encode")
    assert request.kind == SpanKind.SERVER
    trace_id = request.context.trace_id
    in_trace = {(s.name, s.kind) for s in finished if s.context.trace_id == trace_id}

    assert ("/vidkiln.auth.v1.AuthService/Authenticate", SpanKind.SERVER) in in_trace
    assert ("/vidkiln.jobs.v1.JobService/CreateJob", SpanKind.CLIENT) in in_trace
    assert ("/vidkiln.jobs.v1.JobService/CreateJob", SpanKind.SERVER) in in_trace
    assert ("/vidkiln.ingest.v1.IngestService/ResolveSource", SpanKind.SERVER) in in_trace
    assert ("publish task.encode", SpanKind.PRODUCER) in in_trace
    assert ("consume task.encode", SpanKind.CONSUMER) in in_trace
    assert ("transcode", SpanKind.INTERNAL) in in_trace
    # ... and on through the events the encoder published, back into jobs.
    assert ("consume encode.succeeded", SpanKind.CONSUMER) in in_trace
    assert ("publish job.state_changed", SpanKind.PRODUCER) in in_trace
    assert ("consume job.state_changed", SpanKind.CONSUMER) in in_trace  # ... and on into webhooks

    transcode = next(s for s in finished if s.name == "transcode" and s.context.trace_id == trace_id)
    assert transcode.attributes is not None and transcode.attributes["vidkiln.job_id"] == created["jobId"]
