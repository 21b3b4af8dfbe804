"""NATS JetStream: connection, stream setup, traced publishing and the one pull-consumer loop.

A consumed message is leased to its handler for `ack_wait`. By default a timer renews the lease while the
handler runs; a spec with `renew_on_progress` renews it only after the handler reports progress
(`Delivery.progress()`), so a handler that is stuck loses its message to another delivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
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
from opentelemetry.trace import Span, SpanKind, Tracer

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

    def __init__(self, js: JetStreamContext, tracer: Tracer, *, timeout: float | None = None) -> None:
        self._js = js
        self._tracer = tracer
        self._timeout = timeout  # seconds to wait for the stream's ack (TimeoutError after); None: nats-py's 5 s

    async def publish(self, subject: str, message: Message, *, msg_id: str) -> None:
        """Waits for the stream's ack; a repeat of msg_id within the window is dropped by NATS."""
        with self._tracer.start_as_current_span(f"publish {subject}", kind=SpanKind.PRODUCER) as span:
            span.set_attribute("messaging.system", "nats")
            span.set_attribute("messaging.destination.name", subject)
            span.set_attribute("messaging.message.id", msg_id)
            headers: dict[str, str] = {}
            propagate.inject(headers)
            headers["Nats-Msg-Id"] = msg_id
            await self._js.publish(subject, message.SerializeToString(), headers=headers, timeout=self._timeout)


class Lease:
    """A delivery's hold on its message: JetStream redelivers it once `ack_wait` passes without a renewal."""

    def __init__(self, ack_wait: float, *, on_progress: bool) -> None:
        self.ack_wait, self.on_progress = ack_wait, on_progress
        self._renewed = asyncio.get_running_loop().time()  # delivered just now
        self._moved = False

    def progress(self) -> None:
        """The handler moved on (bytes, frames, a finished step): the next heartbeat may renew."""
        self._moved = True

    def due(self) -> bool:
        """Whether the heartbeat renews now: always by timer, else only after progress since the last renewal."""
        due, self._moved = self._moved or not self.on_progress, False
        return due

    def renewed(self) -> None:
        self._renewed = asyncio.get_running_loop().time()

    @property
    def lapsed(self) -> bool:
        """No renewal for ack_wait: JetStream has handed the message to another delivery (or will)."""
        return asyncio.get_running_loop().time() - self._renewed >= self.ack_wait


@dataclass(frozen=True)
class Delivery:
    """What the handler may know about the message besides its payload."""

    subject: str
    attempt: int  # 1 on first delivery
    max_deliver: int
    lease: Lease | None = field(default=None, compare=False, repr=False)

    @property
    def is_last(self) -> bool:
        return self.attempt >= self.max_deliver

    def progress(self) -> None:
        """Reports progress: what renews the lease of a spec with `renew_on_progress`."""
        if self.lease is not None:
            self.lease.progress()


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
    concurrency: int = 1  # messages handled at once by one loop (each in its own task when more than one)
    renew_on_progress: bool = False  # the lease is renewed only after Delivery.progress(), not by a timer


async def ensure_consumer(js: JetStreamContext, spec: ConsumerSpec[M]) -> None:
    """Creates the durable consumer, or updates it to the spec."""
    config = ConsumerConfig(
        name=spec.durable,
        durable_name=spec.durable,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=spec.ack_wait,
        max_deliver=spec.max_deliver,
        # Shared by every process on the durable: room for many of them, each with its messages in hand.
        max_ack_pending=max(spec.batch * 4, spec.concurrency * 64, 64),
        filter_subjects=list(spec.subjects) if len(spec.subjects) > 1 else None,
        filter_subject=spec.subjects[0] if len(spec.subjects) == 1 else None,
    )
    await js.add_consumer(spec.stream, config)


async def run_pull_consumer(
    js: JetStreamContext, spec: ConsumerSpec[M], *, stop: asyncio.Event, tracer: Tracer
) -> None:
    """Fetches and handles messages until `stop` is set; finishes the messages in hand first.

    With `concurrency` above one, each message is handled in a task of its own and the loop fetches
    again as soon as a slot is free, so one long handler never holds up the messages behind it.
    """
    await ensure_consumer(js, spec)
    sub = await js.pull_subscribe_bind(durable=spec.durable, stream=spec.stream)
    running: set[asyncio.Task[None]] = set()
    try:
        while not stop.is_set():
            finished = {task for task in running if task.done()}
            running -= finished
            _reraise(finished)
            free = spec.concurrency - len(running)
            if free <= 0:
                await asyncio.wait(running, timeout=1, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                # Never more than the free slots: a fetched message is leased, and must not wait for a slot.
                msgs = await sub.fetch(spec.batch if spec.concurrency == 1 else min(spec.batch, free), timeout=1)
            except TimeoutError:
                # Nothing to do (nats.errors.TimeoutError for one message, asyncio's for a batch).
                continue
            except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError):
                await asyncio.sleep(0.5)  # reconnecting: the client resumes on its own
                continue
            if spec.concurrency > 1:
                running.update(asyncio.create_task(_handle_one(msg, spec, tracer)) for msg in msgs)
                continue
            if spec.batch_handler is not None and len(msgs) > 1 and await _handle_batch(msgs, spec, tracer):
                continue
            for msg in msgs:
                await _handle_one(msg, spec, tracer)
    except asyncio.CancelledError:
        for task in running:
            task.cancel()  # told to give up waiting: the messages come back after ack_wait
        raise
    finally:
        # Handlers see `stop` too (an encoder interrupts its encodes): each hands its message back or finishes.
        await asyncio.gather(*running, return_exceptions=True)
        try:
            await sub.unsubscribe()  # before nc.drain(), or drain waits on this subscription
        except nats.errors.Error:
            pass


def _reraise(done: Iterable[asyncio.Task[None]]) -> None:
    """A handler task that failed outside the handler (an ack on a closed connection) ends the loop, as it
    would when handled inline: the process goes down and its supervisor restarts it."""
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            task.result()


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
    lease = Lease(spec.ack_wait, on_progress=spec.renew_on_progress)
    delivery = Delivery(msg.subject, msg.metadata.num_delivered, spec.max_deliver, lease)
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
        heartbeat = asyncio.create_task(_heartbeat(msg, lease))
        try:
            await spec.handler(event, delivery)
        except Exception as exc:
            if spec.renew_on_progress and lease.lapsed and not delivery.is_last:
                # The lease ran out while the handler was silent: a newer delivery has the message and decides
                # its fate (JetStream would honour a term from this one, ending the newer one's work).
                span.record_exception(exc)
                logger.warning("%s lost its lease (%s); its next delivery decides", msg.subject, describe(exc))
                return
            await _settle_failure(msg, spec, event, delivery, exc, span)
            return
        finally:
            heartbeat.cancel()
        # Handled, and its side effects are durable: the message is done.
        await msg.ack()


async def _settle_failure(
    msg: Msg, spec: ConsumerSpec[M], event: M, delivery: Delivery, exc: Exception, span: Span
) -> None:
    span.record_exception(exc)
    if isinstance(exc, PermanentError):
        # The task can never succeed: record why, then remove it for good.
        await _give_up(msg, spec, event, delivery, exc)
    elif delivery.is_last:
        # Out of attempts: redelivery is bounded, so this is final.
        logger.exception("giving up on %s after %d attempts", msg.subject, delivery.attempt)
        await _give_up(msg, spec, event, delivery, exc)
    else:
        # Transient (I/O, a busy database, an unavailable peer): try again later.
        delay = min(2.0**delivery.attempt, 60.0)
        logger.warning("retrying %s in %.0fs: %s", msg.subject, delay, describe(exc))
        await msg.nak(delay=delay)


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


async def _heartbeat(msg: Msg, lease: Lease) -> None:
    """Renews the lease while the handler runs: on a timer, or only after progress (Lease.due)."""
    while True:
        # A quarter of ack_wait: progress just after a renewal is renewed again well before the lease runs out.
        await asyncio.sleep(lease.ack_wait / (4 if lease.on_progress else 3))
        if not lease.due():
            continue
        try:
            await msg.in_progress()
            lease.renewed()
        except nats.errors.Error as exc:
            logger.warning("in_progress failed: %s", exc)
