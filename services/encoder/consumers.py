"""The `encoder` consumer: one shared durable on TASKS that every worker pulls from."""

from __future__ import annotations

from protos.jobs.v1 import events_pb2 as job_events
from services.common import subjects
from services.common.events import ConsumerSpec, Delivery
from services.encoder import domain, reporting


def decode(_subject: str, data: bytes) -> job_events.EncodeRequested:
    task = job_events.EncodeRequested()
    task.ParseFromString(data)
    return task


def consumer(
    deps: domain.Deps, *, ack_wait: float, max_deliver: int, concurrency: int = 1
) -> ConsumerSpec[job_events.EncodeRequested]:
    """Encodes `concurrency` tasks at once; only their progress keeps them leased, failures end in job.failed."""

    async def handler(task: job_events.EncodeRequested, delivery: Delivery) -> None:
        await domain.encode(deps, task, delivery)

    async def give_up(task: job_events.EncodeRequested, delivery: Delivery, exc: BaseException) -> None:
        await reporting.report_failure(deps, task, delivery, exc)

    return ConsumerSpec(
        stream=subjects.TASKS_STREAM,
        durable="encoder",
        subjects=[subjects.TASK_ENCODE],
        decode=decode,
        handler=handler,
        on_give_up=give_up,
        ack_wait=ack_wait,
        max_deliver=max_deliver,
        batch=1,
        concurrency=concurrency,
        # A stuck task must lose its lease (and go to another worker), not keep it by a timer.
        renew_on_progress=True,
    )
