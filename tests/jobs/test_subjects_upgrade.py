"""Workers speak on encode.*; events a previous release's workers left on job.* are still applied once."""

from __future__ import annotations

import asyncio
import uuid

from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from opentelemetry.sdk.trace import TracerProvider

from protos.encoder.v1 import events_pb2 as encoder_events
from services.common import subjects
from services.common.events import ensure_streams, run_pull_consumer
from services.common.identity import Principal
from services.jobs import consumers, domain
from tests.jobs.conftest import ALL, Env

_OLD_FILTERS = ["job.running", "job.progress", "job.succeeded", "job.failed", "job.log"]


async def test_events_on_the_old_subjects_are_consumed_after_an_upgrade(
    env: Env, tracer_provider: TracerProvider
) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    job = await env.create(principal)
    # The previous release's layout: EVENTS on job.> only, jobs-state filtering the old names.
    await env.js.delete_stream(subjects.EVENTS_STREAM)
    await env.js.add_stream(
        StreamConfig(
            name=subjects.EVENTS_STREAM, subjects=["job.>"], retention=RetentionPolicy.LIMITS, storage=StorageType.FILE
        )
    )
    await env.js.add_consumer(
        subjects.EVENTS_STREAM,
        ConsumerConfig(
            name="jobs-state", durable_name="jobs-state", ack_policy=AckPolicy.EXPLICIT, filter_subjects=_OLD_FILTERS
        ),
    )
    started = encoder_events.EncodeStarted(job_id=job.id, attempt=1, worker_id="w")
    await env.js.publish("job.running", started.SerializeToString(), headers={"Nats-Msg-Id": f"{job.id}:running:1"})

    await ensure_streams(env.js)  # the new release starts
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_pull_consumer(env.js, consumers.consumer(env.deps), stop=stop, tracer=tracer_provider.get_tracer("t"))
    )
    try:
        for _ in range(200):
            current = await domain.get_job(env.deps, principal=principal, job_id=job.id)
            if current.status == "running":
                break
            await asyncio.sleep(0.05)
        assert current.status == "running"
        finished = encoder_events.EncodeFailed(job_id=job.id, attempt=1, message="boom")
        await env.js.publish(subjects.ENCODE_FAILED, finished.SerializeToString(), headers={"Nats-Msg-Id": "f1"})
        for _ in range(200):
            current = await domain.get_job(env.deps, principal=principal, job_id=job.id)
            if current.status == "failed":
                break
            await asyncio.sleep(0.05)
        assert current.status == "failed"  # and on the new subject
        info = await env.js.consumer_info(subjects.EVENTS_STREAM, "jobs-state")
        assert set(info.config.filter_subjects or ()) == {*subjects.ENCODER_EVENTS, *_OLD_FILTERS}
    finally:
        stop.set()
        await task
