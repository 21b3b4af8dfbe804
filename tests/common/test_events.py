"""The JetStream consumer loop on a real nats-server: ack, nak, term, heartbeats, dedupe, traces."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer

from protos.encoder.v1.events_pb2 import EncodeProgressed
from services.common import subjects
from services.common.errors import PermanentError, R
from services.common.events import (
    ConsumerSpec,
    Delivery,
    Handler,
    Publisher,
    connect_nats,
    ensure_streams,
    run_pull_consumer,
)
from tests.harness import NatsServer

_STREAM = subjects.EVENTS_STREAM
_SUBJECT = subjects.ENCODE_PROGRESS
_DURABLE = "test-consumer"


def _decode(_subject: str, data: bytes) -> EncodeProgressed:
    return EncodeProgressed.FromString(data)


def _event(job_id: str = "job-1") -> EncodeProgressed:
    return EncodeProgressed(job_id=job_id, attempt=1, progress=42.0)


@dataclass
class _Record:
    """What a test handler saw: (job id, attempt, loop time) per delivery, and give-ups."""

    deliveries: list[tuple[str, int, float]] = field(default_factory=list)
    give_ups: list[tuple[str, Delivery, BaseException]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def attempts(self) -> list[int]:
        return [attempt for _, attempt, _ in self.deliveries]

    def delivered(self, event: EncodeProgressed, delivery: Delivery) -> None:
        self.deliveries.append((event.job_id, delivery.attempt, asyncio.get_running_loop().time()))
        self.changed.set()

    async def give_up(self, event: EncodeProgressed, delivery: Delivery, exc: BaseException) -> None:
        self.give_ups.append((event.job_id, delivery, exc))
        self.changed.set()

    async def wait_for(self, *, deliveries: int = 0, give_ups: int = 0, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.deliveries) < deliveries or len(self.give_ups) < give_ups:
                self.changed.clear()
                await self.changed.wait()


def _spec(
    handler: Handler[EncodeProgressed],
    record: _Record,
    *,
    ack_wait: float = 30.0,
    max_deliver: int = 5,
    batch: int = 1,
) -> ConsumerSpec[EncodeProgressed]:
    return ConsumerSpec(
        stream=_STREAM,
        durable=_DURABLE,
        subjects=[_SUBJECT],
        decode=_decode,
        handler=handler,
        on_give_up=record.give_up,
        ack_wait=ack_wait,
        max_deliver=max_deliver,
        batch=batch,
    )


@pytest.fixture
async def nc(nats: NatsServer) -> AsyncIterator[NATS]:
    client = await connect_nats(nats.url, name="test-events", connect_timeout=5)
    yield client
    await client.close()


@pytest.fixture
async def js(nc: NATS) -> JetStreamContext:
    context = nc.jetstream()
    await ensure_streams(context)
    return context


@pytest.fixture
def tracer(tracer_provider: TracerProvider) -> Tracer:
    return tracer_provider.get_tracer("tests.common.events")


@asynccontextmanager
async def _consuming(
    js: JetStreamContext, spec: ConsumerSpec[EncodeProgressed], tracer: Tracer, *, workers: int = 1
) -> AsyncIterator[asyncio.Event]:
    """Runs the loop (several workers share the durable) until the block ends, then stops it cleanly."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_pull_consumer(js, spec, stop=stop, tracer=tracer)) for _ in range(workers)]
    try:
        yield stop
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks)


async def _settled(js: JetStreamContext, timeout: float = 5.0) -> ConsumerInfo:
    """The consumer's info once nothing is waiting or unacknowledged (acked or terminated)."""
    async with asyncio.timeout(timeout):
        while True:
            info: ConsumerInfo = await js.consumer_info(_STREAM, _DURABLE)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                return info
            await asyncio.sleep(0.05)


def _deliveries(info: ConsumerInfo) -> int:
    assert info.delivered is not None and info.delivered.consumer_seq is not None
    return info.delivered.consumer_seq


async def test_a_handled_message_is_acked_after_one_delivery(js: JetStreamContext, tracer: Tracer) -> None:
    record = _Record()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        assert event.progress == 42.0
        assert delivery == Delivery(subject=_SUBJECT, attempt=1, max_deliver=5)
        record.delivered(event, delivery)

    await Publisher(js, tracer).publish(_SUBJECT, _event(), msg_id="job-1:progress")
    async with _consuming(js, _spec(handler, record), tracer):
        await record.wait_for(deliveries=1)
        info = await _settled(js)

    assert [(job, attempt) for job, attempt, _ in record.deliveries] == [("job-1", 1)]
    assert _deliveries(info) == 1
    assert record.give_ups == []


async def test_a_transient_failure_is_nakked_with_a_delay_and_redelivered(js: JetStreamContext, tracer: Tracer) -> None:
    record = _Record()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)
        if delivery.attempt == 1:
            raise OSError("database is busy")

    await Publisher(js, tracer).publish(_SUBJECT, _event(), msg_id="job-1:progress")
    async with _consuming(js, _spec(handler, record), tracer):
        await record.wait_for(deliveries=2)
        info = await _settled(js)

    assert record.attempts == [1, 2]
    first, second = record.deliveries[0][2], record.deliveries[1][2]
    assert second - first >= 1.8, "nak(delay=2**attempt) must hold the redelivery back"
    assert _deliveries(info) == 2
    assert record.give_ups == []


async def test_a_permanent_error_gives_up_once_and_terms(js: JetStreamContext, tracer: Tracer) -> None:
    record = _Record()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)
        raise PermanentError("The preset does not exist.", reason=R.OPTIONS_INCOMPATIBLE)

    await Publisher(js, tracer).publish(_SUBJECT, _event(), msg_id="job-1:progress")
    # A short ack_wait: a message left unacknowledged would come back within the test.
    async with _consuming(js, _spec(handler, record, ack_wait=1.0), tracer):
        await record.wait_for(deliveries=1, give_ups=1)
        info = await _settled(js)
        await asyncio.sleep(1.2)

    assert record.attempts == [1]
    [(job_id, delivery, exc)] = record.give_ups
    assert (job_id, delivery.attempt) == ("job-1", 1)
    assert isinstance(exc, PermanentError)
    assert _deliveries(info) == 1
    assert _deliveries(await js.consumer_info(_STREAM, _DURABLE)) == 1


async def test_redelivery_is_bounded_and_the_last_attempt_gives_up(js: JetStreamContext, tracer: Tracer) -> None:
    record = _Record()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)
        raise RuntimeError("upstream keeps failing")

    await Publisher(js, tracer).publish(_SUBJECT, _event(), msg_id="job-1:progress")
    async with _consuming(js, _spec(handler, record, max_deliver=2), tracer):
        await record.wait_for(deliveries=2, give_ups=1)
        info = await _settled(js)

    assert record.attempts == [1, 2]
    [(_, delivery, exc)] = record.give_ups
    assert delivery.attempt == 2 and delivery.is_last
    assert isinstance(exc, RuntimeError) and str(exc) == "upstream keeps failing"
    assert _deliveries(info) == 2


async def test_an_undecodable_payload_is_terminated_without_calling_the_handler(
    js: JetStreamContext, tracer: Tracer
) -> None:
    record = _Record()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)

    await js.publish(_SUBJECT, b"\xff\xff\xff not a proto")
    await Publisher(js, tracer).publish(_SUBJECT, _event("job-2"), msg_id="job-2:progress")
    async with _consuming(js, _spec(handler, record, ack_wait=1.0), tracer):
        await record.wait_for(deliveries=1)
        info = await _settled(js)

    assert [(job, attempt) for job, attempt, _ in record.deliveries] == [("job-2", 1)]
    assert record.give_ups == []
    assert _deliveries(info) == 2  # each message once: the bad one was not retried


async def test_heartbeats_keep_a_long_handler_leased(js: JetStreamContext, tracer: Tracer) -> None:
    record = _Record()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)
        await asyncio.sleep(2.5)  # well past ack_wait

    await Publisher(js, tracer).publish(_SUBJECT, _event(), msg_id="job-1:progress")
    # A second worker on the same durable would receive the message if its lease ran out.
    async with _consuming(js, _spec(handler, record, ack_wait=1.0), tracer, workers=2):
        await record.wait_for(deliveries=1)
        info = await _settled(js)

    assert record.attempts == [1]
    assert _deliveries(info) == 1


async def test_stopping_finishes_the_message_in_hand(js: JetStreamContext, tracer: Tracer) -> None:
    record = _Record()
    release = asyncio.Event()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)
        await release.wait()

    await Publisher(js, tracer).publish(_SUBJECT, _event(), msg_id="job-1:progress")
    async with _consuming(js, _spec(handler, record), tracer) as stop:
        await record.wait_for(deliveries=1)
        stop.set()
        release.set()

    info = await _settled(js)
    assert record.attempts == [1]
    assert _deliveries(info) == 1


async def test_a_batch_consumer_outlives_an_empty_fetch(js: JetStreamContext, tracer: Tracer) -> None:
    record = _Record()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)

    publisher = Publisher(js, tracer)
    for n in range(3):
        await publisher.publish(_SUBJECT, _event(f"job-{n}"), msg_id=f"job-{n}:progress")
    async with _consuming(js, _spec(handler, record, batch=4), tracer):
        await record.wait_for(deliveries=3)
        await asyncio.sleep(1.2)  # a fetch of 4 times out on an empty stream
        await publisher.publish(_SUBJECT, _event("job-3"), msg_id="job-3:progress")
        await record.wait_for(deliveries=4)
        info = await _settled(js)

    assert sorted(job for job, _, _ in record.deliveries) == ["job-0", "job-1", "job-2", "job-3"]
    assert _deliveries(info) == 4


async def test_a_repeated_msg_id_is_stored_once(js: JetStreamContext, tracer: Tracer) -> None:
    await ensure_streams(js)  # idempotent: every service calls it at startup
    publisher = Publisher(js, tracer)

    await publisher.publish(_SUBJECT, _event(), msg_id="job-1:progress:42")
    await publisher.publish(_SUBJECT, _event(), msg_id="job-1:progress:42")
    assert (await js.stream_info(_STREAM)).state.messages == 1

    await publisher.publish(_SUBJECT, _event(), msg_id="job-1:progress:43")
    assert (await js.stream_info(_STREAM)).state.messages == 2


async def test_the_consumer_span_continues_the_producer_trace(
    js: JetStreamContext, tracer: Tracer, spans: InMemorySpanExporter
) -> None:
    record = _Record()

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)

    with tracer.start_as_current_span("submit job"):
        await Publisher(js, tracer).publish(_SUBJECT, _event(), msg_id="job-1:progress")
    async with _consuming(js, _spec(handler, record), tracer):
        await record.wait_for(deliveries=1)
        await _settled(js)

    by_name = {span.name: span for span in spans.get_finished_spans()}
    parent, producer, consumer = by_name["submit job"], by_name[f"publish {_SUBJECT}"], by_name[f"consume {_SUBJECT}"]
    assert producer.kind is SpanKind.PRODUCER and consumer.kind is SpanKind.CONSUMER
    assert parent.context is not None and producer.context is not None and consumer.context is not None
    assert consumer.context.trace_id == producer.context.trace_id == parent.context.trace_id
    assert consumer.parent is not None and consumer.parent.span_id == producer.context.span_id
    assert consumer.attributes is not None
    assert consumer.attributes["messaging.consumer.group.name"] == _DURABLE
    assert consumer.attributes["messaging.delivery.attempt"] == 1


@pytest.mark.parametrize("fails", [False, True], ids=["batch", "falls-back"])
async def test_a_batch_handler_takes_a_fetch_at_once_or_falls_back_to_one_by_one(
    js: JetStreamContext, tracer: Tracer, fails: bool
) -> None:
    record = _Record()
    batches: list[list[str]] = []

    async def handler(event: EncodeProgressed, delivery: Delivery) -> None:
        record.delivered(event, delivery)

    async def batch_handler(events: Sequence[EncodeProgressed]) -> None:
        batches.append([e.job_id for e in events])
        if fails:
            raise OSError("the database is busy")
        for event in events:
            record.delivered(event, Delivery(_SUBJECT, 1, 5))

    publisher = Publisher(js, tracer)
    for n in range(5):
        await publisher.publish(_SUBJECT, _event(f"job-{n}"), msg_id=f"job-{n}:progress")
    spec = dataclasses.replace(_spec(handler, record, batch=10), batch_handler=batch_handler)
    async with _consuming(js, spec, tracer):
        await record.wait_for(deliveries=5)
        info = await _settled(js)

    assert [job for job, _, _ in record.deliveries] == [f"job-{n}" for n in range(5)]  # in order, once each
    assert batches and len(batches[0]) > 1
    assert _deliveries(info) == 5  # acked without a redelivery, whichever way
