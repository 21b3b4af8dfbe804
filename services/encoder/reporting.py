"""What a task tells the platform: its start and outcome (each a watched step), its log and progress
(advisory: in order, throttled, never holding the task up), and a failure with a stable reason."""

from __future__ import annotations

import asyncio
import json
import logging
import posixpath
import uuid
from collections.abc import Awaitable
from typing import Any, TypeVar

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from protos.common.v1 import errors_pb2, media_pb2
from protos.encoder.v1 import events_pb2
from protos.jobs.v1 import events_pb2 as job_events
from services.common import subjects
from services.common.errors import DomainError, R, Unavailable
from services.common.events import Delivery
from services.encoder import profiles
from services.encoder.deps import Deps
from services.encoder.isolation import Outcome
from services.encoder.liveness import Step, Watch, seconds

logger = logging.getLogger(__name__)

T = TypeVar("T")


def now() -> Timestamp:
    ts = Timestamp()
    ts.GetCurrentTime()
    return ts


def _nats(deps: Deps) -> Step:
    return Step(
        "publish",
        deps.deadlines.publish,
        lambda d: Unavailable(f"The job's events were not acknowledged within {seconds(d)}.", reason=R.UNAVAILABLE),
        interruptible=False,  # short, and an event half-sent at shutdown is sent again by the next attempt
    )


async def over_nats(deps: Deps, watch: Watch, work: Awaitable[T]) -> T:
    """A request to NATS as a step: the Publisher's timeout and the watch end it at the publish deadline."""
    step = _nats(deps)
    try:
        return await watch.run(step, work)
    except TimeoutError as exc:  # nats-py's own timeout (the Publisher's is the same deadline)
        raise step.stalled(step.deadline) from exc


async def publish(deps: Deps, watch: Watch, subject: str, event: Message, *, msg_id: str) -> None:
    await over_nats(deps, watch, deps.publisher.publish(subject, event, msg_id=msg_id))


class TaskEvents:
    """Publishes log entries in order and the newest progress at most once a second, from one
    task, so a slow or failing publish never holds up the encode."""

    def __init__(self, deps: Deps, job_id: str, attempt: int) -> None:
        self._deps, self._job_id, self._attempt = deps, job_id, attempt
        self._logs: list[events_pb2.EncodeLogged] = []
        self._progress: float | None = None
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    def progress(self, percent: float) -> None:
        self._progress = percent
        self._wake.set()

    def log(self, level: str, message: str, details: dict[str, Any] | None = None) -> None:
        self._logs.append(
            events_pb2.EncodeLogged(
                job_id=self._job_id,
                attempt=self._attempt,
                level=level,
                message=message,
                details_json=json.dumps(details) if details else "",
                at=now(),
            )
        )
        self._wake.set()

    async def _publish(self, subject: str, event: Message, kind: str) -> None:
        try:
            await self._deps.publisher.publish(subject, event, msg_id=f"{self._job_id}:{kind}:{uuid.uuid4().hex}")
        except Exception as exc:
            # Progress and log entries are advisory: losing one must not fail the encode.
            logger.warning("%s publish failed: %s", subject, exc)

    async def _flush_logs(self) -> None:
        while self._logs:
            await self._publish(subjects.ENCODE_LOG, self._logs.pop(0), "log")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_progress = 0.0
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush_logs()
            if self._progress is not None:
                await asyncio.sleep(max(0.0, next_progress - loop.time()))
                await self._flush_logs()
                percent, self._progress = self._progress, None
                event = events_pb2.EncodeProgressed(
                    job_id=self._job_id, attempt=self._attempt, progress=percent or 0.0, at=now()
                )
                await self._publish(subjects.ENCODE_PROGRESS, event, "progress")
                next_progress = loop.time() + 1.0

    async def close(self) -> None:
        """Stops publishing progress; log entries still waiting go out before the outcome does, for as long
        as one publish may take (a NATS that acknowledges nothing must not hold the task)."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        try:
            await asyncio.wait_for(self._flush_logs(), self._deps.deadlines.publish)
        except TimeoutError:
            logger.warning("job %s: %d log entries not published", self._job_id, len(self._logs))


def succeeded(
    task: job_events.EncodeRequested, attempt: int, outcome: Outcome, thumbnails: dict[str, str]
) -> events_pb2.EncodeSucceeded:
    content_type = profiles.CONTAINERS[task.options.container][3]
    output = media_pb2.StoredObject(
        key=task.output_key,
        size_bytes=outcome.output_probe.size_bytes,
        content_type=content_type,
        filename=task.output_filename,
    )
    posters = [
        media_pb2.StoredObject(key=key, content_type="image/jpeg", filename=posixpath.basename(key))
        for key in thumbnails.values()
    ]
    return events_pb2.EncodeSucceeded(
        job_id=task.job_id,
        attempt=attempt,
        output=output,
        source_probe=outcome.source_probe,
        output_probe=outcome.output_probe,
        encoder=outcome.result.encoder,
        at=now(),
        thumbnails=posters,
        passes=outcome.result.passes,
        warnings=list(outcome.result.warnings),
    )


async def report_failure(deps: Deps, task: job_events.EncodeRequested, delivery: Delivery, exc: BaseException) -> None:
    """Publishes job.failed with a stable reason and a message a person understands."""
    if isinstance(exc, DomainError):
        reason, message = exc.reason, exc.message
        if delivery.attempt > 1:  # a transient failure that never went away
            message = f"{message} Gave up after {delivery.attempt} attempts."
    else:
        reason = errors_pb2.RETRIES_EXHAUSTED
        message = f"The encode failed {delivery.attempt} times; last error: {exc}."
    failed = events_pb2.EncodeFailed(
        job_id=task.job_id, attempt=delivery.attempt, reason=reason, message=message, at=now()
    )
    await deps.publisher.publish(subjects.ENCODE_FAILED, failed, msg_id=f"{task.job_id}:failed")
