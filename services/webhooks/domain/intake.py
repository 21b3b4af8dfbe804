"""From job.state_changed to deliveries: each event is logged once, with one delivery per subscriber.

Both are written in one transaction, before the NATS messages are acknowledged, so a crash anywhere
loses nothing; a redelivered message finds its event already logged and changes nothing. A batch of
events shares one transaction (the consumer fetches up to 64 at a time).

A job created with a one-off callback URL (on-demand's `webhook`) gets, with its terminal event, a
hidden subscription of its own (no secret: the contract's callback is unsigned) and that one delivery,
retried like any other.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from protos.jobs.v1 import events_pb2, jobs_pb2
from services.common.clock import utcnow
from services.webhooks import payloads, repository
from services.webhooks.domain.deps import Deps
from services.webhooks.models import Attempt, Delivery, JobEvent, Subscription

logger = logging.getLogger(__name__)


def _event_id(changed: events_pb2.JobStateChanged) -> str:
    return changed.event_id or f"{changed.job.id}:{payloads.TYPES[changed.job.status]}"


async def record_job_event(deps: Deps, changed: events_pb2.JobStateChanged) -> int:
    """Logs one event and queues its deliveries; how many (0 for a replay)."""
    return await record_job_events(deps, [changed])


async def record_job_events(deps: Deps, batch: Sequence[events_pb2.JobStateChanged]) -> int:
    """Logs the events (in order, each once) and queues their deliveries; how many deliveries."""
    fresh: dict[str, events_pb2.JobStateChanged] = {}
    for changed in batch:
        if changed.job.status in payloads.TYPES:
            fresh.setdefault(_event_id(changed), changed)
    if not fresh:
        return 0
    queued = 0
    async with deps.sessions.begin() as session:
        for event_id in await repository.known_event_ids(session=session, event_ids=list(fresh)):
            del fresh[event_id]
        if not fresh:
            return 0
        accounts = {uuid.UUID(changed.job.account_id) for changed in fresh.values()}
        subscribers = await repository.active_subscribers(session=session, account_ids=accounts)
        events = []
        for event_id, changed in fresh.items():
            job = changed.job
            at = job.updated_at.ToDatetime(tzinfo=UTC) if job.HasField("updated_at") else utcnow()
            event = JobEvent(
                event_id=event_id,
                account_id=uuid.UUID(job.account_id),
                job_id=uuid.UUID(job.id),
                type=payloads.event_type(job, changed.progress_step),
                progress_step=changed.progress_step,
                job=job.SerializeToString(),
                created_at=at,
            )
            session.add(event)
            events.append((event, changed, at))
        await session.flush()  # numbers the events, in order
        now = utcnow()
        for event, changed, at in events:
            callback = _callback(changed, now)
            if (
                callback is not None
                and await repository.get_subscription(session=session, webhook_id=callback.id) is None
            ):
                session.add(callback)
                await session.flush()  # before its delivery references it
            for webhook in [*subscribers, *([callback] if callback is not None else [])]:
                if webhook.account_id != event.account_id:
                    continue
                problem = ""
                try:
                    name, body = payloads.job_body(
                        webhook.dialect, changed.job, changed.progress_step, at, deps.policy.public_url
                    )
                except payloads.UnencodableEvent as exc:
                    name, body, problem = payloads.event_name(webhook.dialect, event.type) or "", b"", str(exc)
                if not name or name not in webhook.events:
                    continue
                delivery = Delivery(
                    subscription_id=webhook.id,
                    event_seq=event.seq,
                    event_id=event.event_id,
                    event=name,
                    job_id=event.job_id,
                    body=body,
                    max_attempts=len(deps.policy.retry_schedule) + 1,
                    next_attempt_at=now,
                    created_at=now,
                )
                session.add(delivery)
                if problem:
                    await _record_unencodable(session, delivery, problem, now)
                else:
                    queued += 1
    if queued:
        deps.wake()
    return queued


async def _record_unencodable(session: AsyncSession, delivery: Delivery, problem: str, now: datetime) -> None:
    """An event no attempt could ever send: a failed delivery with its reason, visible in the delivery log,
    instead of a consumer retrying it for minutes and dropping it (and its job's later events) unrecorded."""
    delivery.state, delivery.attempts, delivery.next_attempt_at = "failed", 1, None
    await session.flush()  # the delivery's row before the attempt that references it
    session.add(
        Attempt(
            delivery_id=delivery.id,
            subscription_id=delivery.subscription_id,
            attempt=1,
            status="failed",
            error=problem,
            created_at=now,
        )
    )
    logger.warning(
        "event %s cannot be encoded for webhook %s: recorded as failed", delivery.event_id, delivery.subscription_id
    )


_TERMINAL = frozenset({jobs_pb2.JOB_STATUS_SUCCEEDED, jobs_pb2.JOB_STATUS_FAILED, jobs_pb2.JOB_STATUS_CANCELED})


def _callback(changed: events_pb2.JobStateChanged, now: datetime) -> Subscription | None:
    """The one-off callback's subscription, when this is the job's end and it asked for one."""
    job = changed.job
    if not job.callback_url or job.status not in _TERMINAL or changed.progress_step:
        return None
    name = payloads.ENCODE_EVENTS[payloads.TYPES[job.status]]
    return Subscription(
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"vidkiln-callback:{job.id}"),
        account_id=uuid.UUID(job.account_id),
        url=job.callback_url,
        events=[name],
        dialect="encode",
        secret_sealed="",
        job_id=uuid.UUID(job.id),
        created_at=now,
    )
