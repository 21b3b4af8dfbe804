"""Moving a task's bytes, each a watched step: the source in; the output and posters to the blob store; the
output to the customer's bucket or folder. Blocking storage calls run in threads of their own (in_thread);
their progress is read from the files they write or read (services/encoder/signs.py)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TypeVar

from protos.common.v1 import storage_pb2
from protos.jobs.v1 import events_pb2 as job_events
from services.common import destinations, http_source
from services.common.errors import DomainError, PermanentError, R, Unavailable
from services.encoder import profiles
from services.encoder.deps import Deps
from services.encoder.liveness import Step, Watch, in_thread, seconds
from services.encoder.reporting import TaskEvents
from services.encoder.signs import read_positions, scratch_copies, sizes

T = TypeVar("T")


def _download(deps: Deps) -> Step:
    def stalled(d: float) -> DomainError:
        return http_source.SourceError(
            f"The source sent nothing for {seconds(d)}.", reason=R.SOURCE_UNREACHABLE, transient=True
        )

    return Step("download", deps.deadlines.download, stalled)


def _read_blob(deps: Deps, what: str) -> Step:
    def stalled(d: float) -> DomainError:
        return Unavailable(f"Reading the {what} from storage made no progress for {seconds(d)}.", reason=R.UNAVAILABLE)

    return Step(f"read {what}", deps.deadlines.download, stalled)


def _store(deps: Deps) -> Step:
    def stalled(d: float) -> DomainError:
        return Unavailable(f"Storing the output made no progress for {seconds(d)}.", reason=R.OUTPUT_WRITE_FAILED)

    # Not interrupted at shutdown: a commit is short, and a half-done one is done again by the next attempt.
    return Step("store output", deps.deadlines.store, stalled, interruptible=False)


def _deliver(deps: Deps) -> Step:
    def stalled(d: float) -> DomainError:
        return Unavailable(
            f"Delivering the output to customer storage made no progress for {seconds(d)}.",
            reason=R.OUTPUT_WRITE_FAILED,
        )

    return Step("deliver output", deps.deadlines.deliver, stalled)


async def fetch_source(
    deps: Deps, watch: Watch, source: storage_pb2.Source, workdir: Path, held: AsyncExitStack, events: TaskEvents
) -> Path:
    """A local file of the source: an upload already in the blob store (held in `held` while the encode needs
    it), or a download into workdir."""
    if source.WhichOneof("kind") == "blob_key":
        try:
            return await held.enter_async_context(_local(deps, watch, source.blob_key, "uploaded source"))
        except (FileNotFoundError, ValueError) as exc:
            raise PermanentError("The uploaded source is gone.", reason=R.FILE_NOT_FOUND) from exc
    dest = workdir / "source"
    with deps.tracer.start_as_current_span("download source"):
        await watch.run(
            _download(deps), _classified(_fetch(deps, source, dest)), sizes(dest, dest.with_name(dest.name + ".part"))
        )
    events.log("INFO", "Source downloaded", {"bytes": dest.stat().st_size, "worker": deps.worker_alias})
    return dest


@asynccontextmanager
async def _local(deps: Deps, watch: Watch, key: str, what: str) -> AsyncIterator[Path]:
    """`deps.blobs.local_file(key)`, entered and left in threads (an S3 blob store downloads a copy)."""
    context = deps.blobs.local_file(key)
    path = await watch.run(_read_blob(deps, what), in_thread(context.__enter__), scratch_copies(deps.blobs, key))
    try:
        yield path
    finally:
        await in_thread(context.__exit__, None, None, None)


def _fetch(deps: Deps, source: storage_pb2.Source, dest: Path) -> Awaitable[object]:
    if source.HasField("s3") or source.HasField("google_drive"):
        if deps.opener is None:
            raise PermanentError("This worker cannot read customer storage.", reason=R.SOURCE_UNREACHABLE)
        return in_thread(
            functools.partial(destinations.fetch, deps.opener, source, dest, max_bytes=deps.max_source_bytes)
        )
    return http_source.download(deps.http, source.url, dest, max_bytes=deps.max_source_bytes)


async def _classified(work: Awaitable[T]) -> T:
    """A storage call's failure as the consumer needs it: transient (tried again with the task) or final."""
    try:
        return await work
    except http_source.SourceError as exc:
        if exc.transient:
            raise  # the server may answer on a later attempt
        raise PermanentError(exc.message, reason=exc.reason) from exc
    except (PermanentError, Unavailable):
        raise  # already classified (Unavailable: the platform's own store, tried again)
    except DomainError as exc:  # refused credentials, a missing bucket or object: no retry helps
        raise PermanentError(exc.message, reason=exc.reason) from exc


async def store(deps: Deps, watch: Watch, files: Sequence[tuple[Path, str]]) -> None:
    """Commits each scratch file to its key in the blob store (a failure of the store is tried again)."""
    for scratch, key in files:
        await watch.run(_store(deps), in_thread(deps.blobs.commit, scratch, key), read_positions(scratch))


async def deliver(deps: Deps, watch: Watch, task: job_events.EncodeRequested, events: TaskEvents) -> None:
    """Uploads the stored output to the customer's bucket or folder, if the job names one. A refusal
    (credentials, missing bucket) is final; an unreachable or silent store is tried again with the task."""
    destination = task.destination
    if not (destination.HasField("s3") or destination.HasField("google_drive")):
        return
    if deps.opener is None:
        raise PermanentError("This worker cannot deliver to customer storage.", reason=R.OUTPUT_WRITE_FAILED)
    content_type = profiles.CONTAINERS[task.options.container][3]
    with deps.tracer.start_as_current_span("deliver output"):
        # S3 blob store: a downloaded copy; a failure of the platform's own store is retried with the task.
        async with _local(deps, watch, task.output_key, "stored output") as path:
            upload = functools.partial(
                destinations.deliver, deps.opener, destination, path, task.output_filename, content_type
            )
            places = await watch.run(_deliver(deps), _classified(in_thread(upload)), read_positions(path))
    events.log("INFO", "Output delivered", {"to": places})
