"""webhooks-intake: the consumer of job.state_changed."""

from __future__ import annotations

from collections.abc import Sequence

from protos.jobs.v1 import events_pb2
from services.common import subjects
from services.common.events import ConsumerSpec, Delivery
from services.webhooks import domain


def decode(_subject: str, data: bytes) -> events_pb2.JobStateChanged:
    return events_pb2.JobStateChanged.FromString(data)


def consumer(deps: domain.Deps) -> ConsumerSpec[events_pb2.JobStateChanged]:
    """The durable `webhooks-intake` consumer on EVENTS: acked once the event and its deliveries are stored."""

    async def handler(event: events_pb2.JobStateChanged, _delivery: Delivery) -> None:
        await domain.record_job_event(deps, event)

    async def batch_handler(events: Sequence[events_pb2.JobStateChanged]) -> None:
        await domain.record_job_events(deps, events)

    return ConsumerSpec(
        stream=subjects.EVENTS_STREAM,
        durable="webhooks-intake",
        subjects=(subjects.JOB_STATE_CHANGED,),
        decode=decode,
        handler=handler,
        batch_handler=batch_handler,
        ack_wait=30.0,
        max_deliver=20,
        batch=64,
    )
