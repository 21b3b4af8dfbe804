"""The encode use case: fetch the source, run the encode in a child process, store, deliver, report events.

Every step runs under the task's Watch (services/encoder/liveness.py): silent for its deadline, it is
ended, the task's scratch removed, and the task handed back (transient) or failed (permanent). Only
progress renews the task's lease.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from contextlib import AsyncExitStack
from dataclasses import fields
from typing import Any

from protos.encoder.v1 import events_pb2
from protos.jobs.v1 import events_pb2 as job_events
from services.common import blobkeys, subjects
from services.common.encode_options import RULES
from services.common.errors import R, Unavailable
from services.common.events import Delivery
from services.common.posters import SIZES
from services.encoder import transfers
from services.encoder.deps import Deadlines, Deps, Running, public_worker
from services.encoder.isolation import EncodeJob, Outcome, run_isolated
from services.encoder.liveness import Step, Watch, seconds
from services.encoder.pipeline import EncodeSpec, Interrupted
from services.encoder.reporting import TaskEvents, now, over_nats, publish, report_failure, succeeded

__all__ = ["Deadlines", "Deps", "Running", "encode", "public_worker", "report_failure", "spec_of"]

logger = logging.getLogger(__name__)

# The child's own watchdog ends a silent encode; the task's watch ends the step only if the parent's side of it
# is stuck too (starting or ending the child), after the child's watchdog and the time it takes to end it.
_ENCODE_BACKSTOP = 15.0


_SPEC_FIELDS = frozenset(f.name for f in fields(EncodeSpec))


def spec_of(task: job_events.EncodeRequested) -> EncodeSpec:
    """What the transcode is asked to do: each encode option EncodeSpec has, by its rule (a zero: the default)."""
    o = task.options
    chosen: dict[str, Any] = {r.name: getattr(o, r.name) or r.default for r in RULES.values() if r.name in _SPEC_FIELDS}
    return EncodeSpec(**chosen)


async def encode(deps: Deps, task: job_events.EncodeRequested, delivery: Delivery) -> None:
    """Runs one encode attempt; the output is durable before job.succeeded is published."""
    job_id, attempt = task.job_id, delivery.attempt
    watch = Watch(delivery.progress, deps.stop)
    if job_id in deps.running.canceled or await over_nats(deps, watch, deps.cancels.was_canceled(job_id)):
        logger.info("job %s was canceled before it started; task dropped", job_id)
        return
    started = events_pb2.EncodeStarted(job_id=job_id, attempt=attempt, worker_id=deps.worker_id, at=now())
    await publish(deps, watch, subjects.ENCODE_RUNNING, started, msg_id=f"{job_id}:running:{attempt}")
    workdir = deps.scratch / f"{job_id}.{attempt}.{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True)
    keys = {size: blobkeys.poster(task.output_key, size) for size in SIZES}
    scratches = {key: deps.blobs.scratch_path(key) for key in (task.output_key, *keys.values())}
    events = TaskEvents(deps, job_id, attempt)
    held = AsyncExitStack()  # the local copy of an uploaded source (S3 blob store), until the encode is done
    try:
        for key in scratches:
            deps.blobs.discard_partials(key)  # an earlier, interrupted attempt's leftovers
        source = await transfers.fetch_source(deps, watch, task.source, workdir, held, events)
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
            outcome = await watch.run(_encode_step(deps), _run(deps, watch, job_id, job, events))
        await held.aclose()
        keys = {size: key for size, key in keys.items() if size in outcome.thumbnails}
        await transfers.store(deps, watch, [(scratches[key], key) for key in (task.output_key, *keys.values())])
        events.log(
            "INFO",
            "Output stored",
            {"bytes": outcome.output_probe.size_bytes, "encoder": outcome.result.encoder, "thumbnails": len(keys)},
        )
        await transfers.deliver(deps, watch, task, events)
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
    done = succeeded(task, attempt, outcome, keys)
    await publish(deps, watch, subjects.ENCODE_SUCCEEDED, done, msg_id=f"{job_id}:succeeded")


def _encode_step(deps: Deps) -> Step:
    def stalled(d: float) -> Unavailable:
        # Tried again: what is stuck is this worker's side of the encode, not the source.
        return Unavailable(f"The encoding process did not answer for {seconds(d)}.", reason=R.ENCODE_TIMEOUT)

    return Step("encode", deps.deadlines.encode + _ENCODE_BACKSTOP, stalled, interruptible=False)


async def _run(deps: Deps, watch: Watch, job_id: str, job: EncodeJob, events: TaskEvents) -> Outcome:
    """The child encode, interrupted by a cancel of this job or by shutdown (between frames, by the child)."""
    interrupt = asyncio.Event()
    deps.running.add(job_id, interrupt)
    shutdown = asyncio.create_task(_relay(deps.stop, interrupt))
    try:
        return await run_isolated(
            job,
            on_progress=events.progress,
            on_log=events.log,
            on_alive=watch.progress,
            interrupt=interrupt,
            watchdog=deps.deadlines.encode,
        )
    finally:
        shutdown.cancel()
        deps.running.remove(job_id, interrupt)


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()
