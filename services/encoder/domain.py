"""The encode use case: fetch the source, run the encode in a child process, store, report events."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import posixpath
import shutil
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry.trace import Tracer

from protos.common.v1 import errors_pb2, media_pb2, storage_pb2
from protos.encoder.v1 import events_pb2
from protos.jobs.v1 import events_pb2 as job_events
from services.common import blobkeys, destinations, http_source, subjects
from services.common.blobstore import BlobStore, open_local
from services.common.cancel import CancelSignals
from services.common.destinations import Opener
from services.common.errors import DomainError, PermanentError, R
from services.common.events import Delivery, Publish
from services.common.posters import SIZES
from services.encoder import profiles
from services.encoder.isolation import EncodeJob, Outcome, run_isolated
from services.encoder.pipeline import EncodeSpec, Interrupted

logger = logging.getLogger(__name__)


@dataclass
class Running:
    """Encodes in progress on this worker, so a cancel message can reach the right one."""

    interrupts: dict[str, asyncio.Event] = field(default_factory=dict)
    canceled: set[str] = field(default_factory=set)

    def cancel(self, job_id: str) -> None:
        self.canceled.add(job_id)
        if len(self.canceled) > 10_000:
            self.canceled.clear()  # only needed while a job runs; the bucket remembers the rest
        if job_id in self.interrupts:
            self.interrupts[job_id].set()


@dataclass(frozen=True)
class Deps:
    publisher: Publish
    http: aiohttp.ClientSession
    blobs: BlobStore
    scratch: Path
    worker_id: str
    max_source_bytes: int
    stop: asyncio.Event  # set on shutdown: a running encode stops and its task goes back to the queue
    tracer: Tracer
    cancels: CancelSignals
    running: Running
    watchdog: float
    opener: Opener | None = None  # opens customer destinations (S3, Google Drive)

    @property
    def worker_alias(self) -> str:
        """The worker as customers see it in job logs: stable, but no host name (operators map it back with
        the service log's start line)."""
        return public_worker(self.worker_id)


def public_worker(worker_id: str) -> str:
    return "worker-" + hashlib.sha256(worker_id.encode()).hexdigest()[:10]


def _now() -> Timestamp:
    ts = Timestamp()
    ts.GetCurrentTime()
    return ts


def spec_of(task: job_events.EncodeRequested) -> EncodeSpec:
    o = task.options
    return EncodeSpec(
        codec=o.codec,
        container=o.container,
        resolution=o.resolution,
        preset=o.preset,
        quality=o.quality,
        audio_policy=o.audio_policy,
        scale_policy=o.scale_policy,
        fps=o.fps or 30,
        frame_rate_policy=o.frame_rate_policy or "preserve",
        bitrate_tier=o.bitrate_tier or "medium",
        passes=o.passes or 1,
    )


class _Events:
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
                at=_now(),
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
                    job_id=self._job_id, attempt=self._attempt, progress=percent or 0.0, at=_now()
                )
                await self._publish(subjects.ENCODE_PROGRESS, event, "progress")
                next_progress = loop.time() + 1.0

    async def close(self) -> None:
        """Stops publishing progress; log entries still waiting go out before the outcome does."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._flush_logs()


async def encode(deps: Deps, task: job_events.EncodeRequested, delivery: Delivery) -> None:
    """Runs one encode attempt; the output is durable before job.succeeded is published."""
    job_id, attempt = task.job_id, delivery.attempt
    if job_id in deps.running.canceled or await deps.cancels.was_canceled(job_id):
        logger.info("job %s was canceled before it started; task dropped", job_id)
        return
    started = events_pb2.EncodeStarted(job_id=job_id, attempt=attempt, worker_id=deps.worker_id, at=_now())
    await deps.publisher.publish(subjects.ENCODE_RUNNING, started, msg_id=f"{job_id}:running:{attempt}")
    workdir = deps.scratch / f"{job_id}.{attempt}.{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True)
    keys = {size: blobkeys.poster(task.output_key, size) for size in SIZES}
    scratches = {key: deps.blobs.scratch_path(key) for key in (task.output_key, *keys.values())}
    events = _Events(deps, job_id, attempt)
    held = AsyncExitStack()  # the local copy of an uploaded source (S3 blob store), until the encode is done
    try:
        for key in scratches:
            deps.blobs.discard_partials(key)  # an earlier, interrupted attempt's leftovers
        if task.source.WhichOneof("kind") == "blob_key":
            try:  # an upload: already in the blob store
                source = await held.enter_async_context(open_local(deps.blobs, task.source.blob_key))
            except (FileNotFoundError, ValueError) as exc:
                raise PermanentError("The uploaded source is gone.", reason=R.FILE_NOT_FOUND) from exc
        else:
            source = workdir / "source"
            with deps.tracer.start_as_current_span("download source"):
                await _download(deps, task.source, source)
            events.log("INFO", "Source downloaded", {"bytes": source.stat().st_size, "worker": deps.worker_alias})
        job = EncodeJob(
            source=source,
            output=scratches[task.output_key],
            thumbnails={size: scratches[key] for size, key in keys.items()},
            spec=spec_of(task),
            poster_at=task.options.poster_at_sec if task.options.HasField("poster_at_sec") else None,
            workdir=workdir,
        )
        o = task.options
        events.log(
            "INFO",
            f"Transcoding to {o.codec} {o.resolution} {o.container}",
            {"worker": deps.worker_alias, "attempt": attempt, "preset": o.preset, "passes": o.passes or 1},
        )
        with deps.tracer.start_as_current_span("transcode") as span:
            span.set_attribute("vidkiln.job_id", job_id)
            span.set_attribute("vidkiln.codec", task.options.codec)
            span.set_attribute("vidkiln.resolution", task.options.resolution)
            outcome = await _run(deps, job_id, job, events)
        await held.aclose()
        keys = {size: key for size, key in keys.items() if size in outcome.thumbnails}
        for key in (task.output_key, *keys.values()):
            await asyncio.to_thread(deps.blobs.commit, scratches[key], key)
        events.log(
            "INFO",
            "Output stored",
            {"bytes": outcome.output_probe.size_bytes, "encoder": outcome.result.encoder, "thumbnails": len(keys)},
        )
        await _deliver(deps, task, events)
    except Interrupted:
        if job_id in deps.running.canceled:
            logger.info("job %s canceled while encoding; partial output removed", job_id)
            return  # the job is already canceled; the task is done
        raise  # shutting down: the task goes back to the queue for another worker
    finally:
        await held.aclose()
        await events.close()
        for scratch in scratches.values():
            scratch.unlink(missing_ok=True)
        await asyncio.to_thread(shutil.rmtree, workdir, True)
    await deps.publisher.publish(
        subjects.ENCODE_SUCCEEDED, _succeeded(task, attempt, outcome, keys), msg_id=f"{job_id}:succeeded"
    )


async def _run(deps: Deps, job_id: str, job: EncodeJob, events: _Events) -> Outcome:
    """The child encode, interrupted by a cancel of this job or by shutdown."""
    interrupt = asyncio.Event()
    deps.running.interrupts[job_id] = interrupt
    if job_id in deps.running.canceled:
        interrupt.set()
    shutdown = asyncio.create_task(_relay(deps.stop, interrupt))
    try:
        return await run_isolated(
            job, on_progress=events.progress, on_log=events.log, interrupt=interrupt, watchdog=deps.watchdog
        )
    finally:
        shutdown.cancel()
        deps.running.interrupts.pop(job_id, None)


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


def _succeeded(
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
        at=_now(),
        thumbnails=posters,
        passes=outcome.result.passes,
        warnings=list(outcome.result.warnings),
    )


async def _deliver(deps: Deps, task: job_events.EncodeRequested, events: _Events) -> None:
    """Uploads the stored output to the customer's bucket or folder, if the job names one. A refusal
    (credentials, missing bucket) is final; an unreachable store is tried again with the task."""
    destination = task.destination
    if not (destination.HasField("s3") or destination.HasField("google_drive")):
        return
    if deps.opener is None:
        raise PermanentError("This worker cannot deliver to customer storage.", reason=R.OUTPUT_WRITE_FAILED)
    content_type = profiles.CONTAINERS[task.options.container][3]
    with deps.tracer.start_as_current_span("deliver output"):
        # S3 blob store: a downloaded copy; a failure of the platform's own store is retried with the task.
        async with open_local(deps.blobs, task.output_key) as path:
            try:
                places = await asyncio.to_thread(
                    destinations.deliver, deps.opener, destination, path, task.output_filename, content_type
                )
            except http_source.SourceError as exc:
                if exc.transient:
                    raise
                raise PermanentError(exc.message, reason=exc.reason) from exc
            except DomainError as exc:
                raise PermanentError(exc.message, reason=exc.reason) from exc
    events.log("INFO", "Output delivered", {"to": places})


async def _download(deps: Deps, source: storage_pb2.Source, dest: Path) -> None:
    try:
        if source.HasField("s3") or source.HasField("google_drive"):
            if deps.opener is None:
                raise PermanentError("This worker cannot read customer storage.", reason=R.SOURCE_UNREACHABLE)
            await asyncio.to_thread(destinations.fetch, deps.opener, source, dest, max_bytes=deps.max_source_bytes)
        else:
            await http_source.download(deps.http, source.url, dest, max_bytes=deps.max_source_bytes)
    except http_source.SourceError as exc:
        if exc.transient:
            raise  # the server may answer on a later attempt
        raise PermanentError(exc.message, reason=exc.reason) from exc
    except PermanentError:
        raise
    except DomainError as exc:  # refused credentials, a missing object: no retry helps
        raise PermanentError(exc.message, reason=exc.reason) from exc


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
        job_id=task.job_id, attempt=delivery.attempt, reason=reason, message=message, at=_now()
    )
    await deps.publisher.publish(subjects.ENCODE_FAILED, failed, msg_id=f"{task.job_id}:failed")
