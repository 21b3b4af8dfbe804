"""The consumer loop on a real nats-server: several messages at once, and leases renewed only by progress."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer

from protos.encoder.v1.events_pb2 import EncodeProgressed
from services.common.errors import PermanentError, R
from services.common.events import Delivery, Publisher, connect_nats, ensure_streams
from tests.common.test_events import (
    _SUBJECT,
    _consuming,
    _deliveries,
    _event,
    _Record,
    _settled,
    _spec,
)
from tests.harness import NatsServer


@pytest.fixture
async def js(nats: NatsServer) -> AsyncIterator[JetStreamContext]:
    client = await connect_nats(nats.url, name="test-events-liveness", connect_timeout=5)
    context = client.jetstream()
    await ensure_streams(context)
    yield context
    await client.close()


@pytest.fixture
def tracer(tracer_provider: TracerProvider) -> Tracer:
    return tracer_provider.get_tracer("tests.common.events_liveness")


async def test_several_messages_are_handled_at_once(js: JetStreamContext, tracer: Tracer) -> None:
    record = _Record()
    inside, all_in = 0, asyncio.Event()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        nonlocal inside
        record.delivered(event, delivery)
        inside += 1
        if inside == 3:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), 10)  # only returns once three run together

    publisher = Publisher(js, tracer)
    for n in range(3):
        await publisher.publish(_SUBJECT, _event(f"job-{n}"), msg_id=f"job-{n}:progress")
    spec = dataclasses.replace(_spec(handler, record), concurrency=3)
    async with _consuming(js, spec, tracer):
        await record.wait_for(deliveries=3)
        info = await _settled(js, timeout=15)

    assert sorted(job for job, _, _ in record.deliveries) == ["job-0", "job-1", "job-2"]
    assert _deliveries(info) == 3 and record.give_ups == []
    assert info.config.max_ack_pending is not None and info.config.max_ack_pending >= 3


async def test_a_handler_that_reports_progress_keeps_its_lease(js: JetStreamContext, tracer: Tracer) -> None:
    record = _Record()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)
        for _ in range(25):  # 2.5 s, well past ack_wait, moving all along
            await asyncio.sleep(0.1)
            delivery.progress()

    await Publisher(js, tracer).publish(_SUBJECT, _event(), msg_id="job-1:progress")
    spec = dataclasses.replace(_spec(handler, record, ack_wait=1.0), renew_on_progress=True)
    async with _consuming(js, spec, tracer, workers=2):
        await record.wait_for(deliveries=1)
        info = await _settled(js)

    assert record.attempts == [1]
    assert _deliveries(info) == 1


async def test_a_silent_handler_loses_its_lease_and_cannot_end_the_next_delivery(
    js: JetStreamContext, tracer: Tracer
) -> None:
    record = _Record()
    first_failed = asyncio.Event()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)
        if delivery.attempt == 1:
            await asyncio.sleep(2.0)  # silent past ack_wait: a timer would have kept the message
            first_failed.set()
            # A verdict that would term the message (and report the job failed) while the next delivery runs.
            raise PermanentError("The first delivery failed late.", reason=R.ENCODE_FAILED)
        while not first_failed.is_set():  # moving: this delivery keeps its lease
            await asyncio.sleep(0.1)
            delivery.progress()
        await asyncio.sleep(0.3)  # still running while the first one's failure is handled

    await Publisher(js, tracer).publish(_SUBJECT, _event(), msg_id="job-1:progress")
    spec = dataclasses.replace(_spec(handler, record, ack_wait=1.0, max_deliver=3), renew_on_progress=True)
    async with _consuming(js, spec, tracer, workers=2):
        await record.wait_for(deliveries=2)
        info = await _settled(js)

    assert record.attempts == [1, 2]
    assert record.give_ups == []  # the late verdict was dropped; the second delivery decided
    assert _deliveries(info) == 2
