"""NATS JetStream: connection, stream setup, traced publishing and the one pull-consumer loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import nats
import nats.errors
import nats.js.errors
from google.protobuf.message import DecodeError, Message
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Tracer

from services.common import subjects
from services.common.errors import PermanentError

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)

_DUPLICATE_WINDOW = 120.0  # seconds JetStream remembers a Nats-Msg-Id
_EVENTS_MAX_AGE = 7 * 24 * 3600.0


async def connect_nats(
    url: str,
    *,
    name: str,
    connect_timeout: float = 30.0,
    on_state: Callable[[bool], Awaitable[None]] | None = None,
) -> NATS:
    """Connects (retrying up to connect_timeout), then reconnects forever after any disconnect."""

    async def disconnected() -> None:
        logger.warning("NATS disconnected")
        if on_state:
            await on_state(False)

    async def reconnected() -> None:
        logger.info("NATS reconnected")
        if on_state:
            await on_state(True)

    async def error(exc: Exception) -> None:
        logger.warning("NATS error: %s", exc)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + connect_timeout
    while True:
        try:
            return await nats.connect(
                url,
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                allow_reconnect=True,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            )
        except (OSError, nats.errors.Error) as exc:
            if loop.time() >= deadline:
                raise
            logger.info("NATS not reachable yet (%s); retrying", exc)
            await asyncio.sleep(0.5)


async def ensure_streams(js: JetStreamContext) -> None:
    """Creates or updates the TASKS work queue and the EVENTS stream (every service may call it)."""
    configs = [
        StreamConfig(
            name=subjects.TASKS_STREAM,
            subjects=["task.>"],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=_DUPLICATE_WINDOW,
        ),
        StreamConfig(
            name=subjects.EVENTS_STREAM,
            subjects=["job.>", "encode.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=_EVENTS_MAX_AGE,
            duplicate_window=_DUPLICATE_WINDOW,
        ),
    ]
    for config in configs:
        try:
            await js.add_stream(config)
        except nats.js.errors.BadRequestError:
            await js.update_stream(config)


class Publish(Protocol):
    """What use cases need to emit events (a Publisher, or a recorder in tests)."""

    async def publish(self, subject: str, message: Message, *, msg_id: str) -> None: ...


class Publisher:
    """Publishes proto messages to JetStream inside a PRODUCER span, with dedupe ids."""

    def __init__(self, js: JetStreamContext, tracer: Tracer) -> None:
        self._js = js
        self._tracer = tracer

    async def publish(self, subject: str, message: Message, *, msg_id: str) -> None:
        """Waits for the stream's ack; a repeat of msg_id within the window is dropped by NATS."""
        with self._tracer.start_as_current_span(f"publish {subject}", kind=SpanKind.PRODUCER) as span:
            span.set_attribute("messaging.system", "nats")
            span.set_attribute("messaging.destination.name", subject)
            span.set_attribute("messaging.message.id", msg_id)
            headers: dict[str, str] = {}
            propagate.inject(headers)
            headers["Nats-Msg-Id"] = msg_id
            await self._js.publish(subject, message.SerializeToString(), headers=headers)


@dataclass(frozen=True)
class Delivery:
    """What the handler may know about the message besides its payload."""

    subject: str
    attempt: int  # 1 on first delivery
    max_deliver: int

    @property
    def is_last(self) -> bool:
        return self.attempt >= self.max_deliver


Handler = Callable[[M, Delivery], Awaitable[None]]
BatchHandler = Callable[[Sequence[M]], Awaitable[None]]
GiveUp = Callable[[M, Delivery, BaseException], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerSpec(Generic[M]):
    """A durable pull consumer and what to do with its messages."""

    stream: str
    durable: str
    subjects: Sequence[str]
    decode: Callable[[str, bytes], M]
    handler: Handler[M]
    on_give_up: GiveUp[M] | None = None  # last chance to record a failure before term()
    ack_wait: float = 30.0
    max_deliver: int = 5
    batch: int = 1
    # Handles a whole fetched batch at once (e.g. in one transaction); when it fails, each message
    # goes through `handler` alone, with the usual retries.
    batch_handler: BatchHandler[M] | None = None


async def ensure_consumer(js: JetStreamContext, spec: ConsumerSpec[M]) -> None:
    """Creates the durable consumer, or updates it to the spec."""
    config = ConsumerConfig(
        name=spec.durable,
        durable_name=spec.durable,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=spec.ack_wait,
        max_deliver=spec.max_deliver,
        max_ack_pending=max(spec.batch * 4, 64),
        filter_subjects=list(spec.subjects) if len(spec.subjects) > 1 else None,
        filter_subject=spec.subjects[0] if len(spec.subjects) == 1 else None,
    )
    await js.add_consumer(spec.stream, config)


async def run_pull_consumer(
    js: JetStreamContext, spec: ConsumerSpec[M], *, stop: asyncio.Event, tracer: Tracer
) -> None:
    """Fetches and handles messages until `stop` is set; finishes the message in hand first."""
    await ensure_consumer(js, spec)
    sub = await js.pull_subscribe_bind(durable=spec.durable, stream=spec.stream)
    try:
        while not stop.is_set():
            try:
                msgs = await sub.fetch(spec.batch, timeout=1)
            except TimeoutError:
                # Nothing to do (nats.errors.TimeoutError for one message, asyncio's for a batch).
                continue
            except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError):
                await asyncio.sleep(0.5)  # reconnecting: the client resumes on its own
                continue
            if spec.batch_handler is not None and len(msgs) > 1 and await _handle_batch(msgs, spec, tracer):
                continue
            for msg in msgs:
                await _handle_one(msg, spec, tracer)
    finally:
        try:
            await sub.unsubscribe()  # before nc.drain(), or drain waits on this subscription
        except nats.errors.Error:
            pass


async def _handle_batch(msgs: Sequence[Msg], spec: ConsumerSpec[M], tracer: Tracer) -> bool:
    """Handles the batch in one call and acks it; False (nothing acked) when the call failed."""
    assert spec.batch_handler is not None
    events: list[M] = []
    spans = []
    try:
        for msg in msgs:
            ctx = propagate.extract(dict(msg.headers or {}))
            span = tracer.start_span(f"consume {msg.subject}", context=ctx, kind=SpanKind.CONSUMER)
            span.set_attribute("messaging.system", "nats")
            span.set_attribute("messaging.destination.name", msg.subject)
            span.set_attribute("messaging.consumer.group.name", spec.durable)
            span.set_attribute("messaging.batch.message_count", len(msgs))
            spans.append(span)
            events.append(spec.decode(msg.subject, msg.data))
        await spec.batch_handler(events)
    except Exception as exc:
        logger.warning(
            "handling a batch of %d on %s failed (%s); one by one instead", len(msgs), spec.durable, describe(exc)
        )
        return False
    finally:
        for span in spans:
            span.end()
    for msg in msgs:
        await msg.ack()
    return True


async def _handle_one(msg: Msg, spec: ConsumerSpec[M], tracer: Tracer) -> None:
    ctx = propagate.extract(dict(msg.headers or {}))
    delivery = Delivery(msg.subject, msg.metadata.num_delivered, spec.max_deliver)
    with tracer.start_as_current_span(f"consume {msg.subject}", context=ctx, kind=SpanKind.CONSUMER) as span:
        span.set_attribute("messaging.system", "nats")
        span.set_attribute("messaging.destination.name", msg.subject)
        span.set_attribute("messaging.consumer.group.name", spec.durable)
        span.set_attribute("messaging.delivery.attempt", delivery.attempt)
        try:
            event = spec.decode(msg.subject, msg.data)
        except (DecodeError, KeyError) as exc:
            # Undecodable or unknown subject: no retry can fix the bytes.
            logger.error("dropping undecodable message on %s: %s", msg.subject, exc)
            await msg.term()
            return
        heartbeat = asyncio.create_task(_heartbeat(msg, spec.ack_wait))
        try:
            await spec.handler(event, delivery)
        except PermanentError as exc:
            # The task can never succeed: record why, then remove it for good.
            span.record_exception(exc)
            await _give_up(msg, spec, event, delivery, exc)
            return
        except Exception as exc:
            span.record_exception(exc)
            if delivery.is_last:
                # Out of attempts: redelivery is bounded, so this is final.
                logger.exception("giving up on %s after %d attempts", msg.subject, delivery.attempt)
                await _give_up(msg, spec, event, delivery, exc)
            else:
                # Transient (I/O, a busy database, an unavailable peer): try again later.
                delay = min(2.0**delivery.attempt, 60.0)
                logger.warning("retrying %s in %.0fs: %s", msg.subject, delay, describe(exc))
                await msg.nak(delay=delay)
            return
        finally:
            heartbeat.cancel()
        # Handled, and its side effects are durable: the message is done.
        await msg.ack()


def describe(exc: BaseException) -> str:
    """An error for the log: its type and its message, short and printable. Never its repr, which for some
    errors (UnicodeEncodeError) holds the whole text being handled: a customer's payload."""
    text = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


async def _give_up(msg: Msg, spec: ConsumerSpec[M], event: M, delivery: Delivery, exc: BaseException) -> None:
    if spec.on_give_up is not None:
        try:
            await spec.on_give_up(event, delivery, exc)
        except Exception:
            # Could not record the failure: leave the message for a later delivery if any remain.
            logger.exception("could not record failure of %s", msg.subject)
            if not delivery.is_last:
                await msg.nak(delay=5.0)
                return
    await msg.term()


async def _heartbeat(msg: Msg, ack_wait: float) -> None:
    """Keeps the message leased while a long handler runs."""
    while True:
        await asyncio.sleep(ack_wait / 3)
        try:
            await msg.in_progress()
        except nats.errors.Error as exc:
            logger.warning("in_progress failed: %s", exc)
