"""The Encode API's job routes as `Call` builders (on-demand, classic, bulk, chunked uploads), named after the
Convertrilo SDK's methods in snake_case; vidkiln's addition: `upload_source` (the signed PUT of `create_job`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from vidkiln.client._http import Call
from vidkiln.client.models import (
    ApproveRequest,
    ApproveResult,
    BulkConfirmResult,
    BulkCreateResult,
    BulkSettings,
    BulkStatus,
    CancelResult,
    ChunkUploaded,
    ConfirmResult,
    EncodeJob,
    FolderIngestRequest,
    FolderIngestResult,
    JobCreated,
    JobCreateRequest,
    JobFilesDeleted,
    JobStatus,
    Ok,
    OnDemandEncodeRequest,
    OnDemandStatus,
    ProbeDuration,
    SourceUploaded,
    StreamFinalized,
    StreamInit,
)
from vidkiln.client.models.requests import body_of

M = TypeVar("M", bound=BaseModel)
Body = Mapping[str, Any]


def path_id(value: str) -> str:
    return quote(value, safe="")


def one(model: type[M]) -> Callable[[Any], M]:
    return model.model_validate


def many(key: str, model: type[M]) -> Callable[[Any], list[M]]:
    return lambda data: [model.model_validate(item) for item in data[key]]


def on_demand_encode(
    request: OnDemandEncodeRequest | Body | None = None, /, *, idempotency_key: str | None = None, **fields: Any
) -> Call[EncodeJob]:
    """POST /ondemand/encode: probes, reserves and queues at once (fields as in `OnDemandEncodeRequest`)."""
    body = body_of(OnDemandEncodeRequest, request, fields)
    return Call("POST", "/ondemand/encode", one(EncodeJob), json=body, create=True, idempotency_key=idempotency_key)


def on_demand_ingest_folder(
    request: FolderIngestRequest | Body | None = None, /, *, idempotency_key: str | None = None, **fields: Any
) -> Call[FolderIngestResult]:
    """POST /ondemand/ingest/folder: one on-demand job per video of an S3 prefix or Drive folder."""
    body = body_of(FolderIngestRequest, request, fields)
    return Call(
        "POST",
        "/ondemand/ingest/folder",
        one(FolderIngestResult),
        json=body,
        create=True,
        idempotency_key=idempotency_key,
    )


def on_demand_status(job_id: str) -> Call[OnDemandStatus]:
    """GET /ondemand/status/{jobId}: status, progress 0-100, and a signed `download_url` on success."""
    return Call("GET", f"/ondemand/status/{path_id(job_id)}", one(OnDemandStatus))


def on_demand_cancel(job_id: str) -> Call[CancelResult]:
    """DELETE /ondemand/{jobId}: cancels the job, releasing its credits (a finished job: ok with a note)."""
    return Call("DELETE", f"/ondemand/{path_id(job_id)}", one(CancelResult))


def create_job(
    request: JobCreateRequest | Body | None = None, /, *, idempotency_key: str | None = None, **fields: Any
) -> Call[JobCreated]:
    """POST /jobs (classic flow): an upload target unless `source_url`/`source_s3`; `confirm=True` queues it."""
    body = body_of(JobCreateRequest, request, fields)
    return Call("POST", "/jobs", one(JobCreated), json=body, create=True, idempotency_key=idempotency_key)


def job_status(job_id: str) -> Call[JobStatus]:
    """GET /jobs/{id}/status: the classic flow's status (`pct`)."""
    return Call("GET", f"/jobs/{path_id(job_id)}/status", one(JobStatus))


def probe_duration(job_id: str) -> Call[ProbeDuration]:
    """GET /jobs/{id}/probe-duration: the source's duration."""
    return Call("GET", f"/jobs/{path_id(job_id)}/probe-duration", one(ProbeDuration))


def approve_unified(job_id: str, request: ApproveRequest | Body | None = None, /, **fields: Any) -> Call[ApproveResult]:
    """POST /jobs/{id}/approve-unified: probe, reserve and estimate without queueing."""
    body = body_of(ApproveRequest, request, fields)
    return Call("POST", f"/jobs/{path_id(job_id)}/approve-unified", one(ApproveResult), json=body or None)


def confirm_job(job_id: str, request: ApproveRequest | Body | None = None, /, **fields: Any) -> Call[ConfirmResult]:
    """POST /jobs/{id}/confirm: queues the job (reserving its credits if not done yet)."""
    body = body_of(ApproveRequest, request, fields)
    return Call("POST", f"/jobs/{path_id(job_id)}/confirm", one(ConfirmResult), json=body or None)


def cancel_job(job_id: str) -> Call[CancelResult]:
    """POST /jobs/{id}/cancel: cancels the job (a finished one: ok with a note)."""
    return Call("POST", f"/jobs/{path_id(job_id)}/cancel", one(CancelResult), retry_safe=True)


def delete_job_files(job_id: str) -> Call[JobFilesDeleted]:
    """DELETE /jobs/{id}: deletes a finished job's upload and output, keeping the job (409 job_active before)."""
    return Call("DELETE", f"/jobs/{path_id(job_id)}", one(JobFilesDeleted))


def create_jobs_bulk(
    jobs: Sequence[JobCreateRequest | Body],
    settings: BulkSettings | Body | None = None,
    *,
    idempotency_key: str | None = None,
) -> Call[BulkCreateResult]:
    """POST /jobs/bulk: many classic jobs at once (`settings.dry_run`: estimates only, nothing created)."""
    body = {
        "jobs": [body_of(JobCreateRequest, job, {}) for job in jobs],
        "settings": body_of(BulkSettings, settings, {}),
    }
    return Call("POST", "/jobs/bulk", one(BulkCreateResult), json=body, create=True, idempotency_key=idempotency_key)


def bulk_status(ids: Iterable[str]) -> Call[BulkStatus]:
    """GET /jobs/bulk/status?ids=: the statuses of up to 100 jobs, and the ids not found."""
    return Call("GET", "/jobs/bulk/status", one(BulkStatus), params={"ids": ",".join(ids)})


def bulk_confirm(job_ids: Sequence[str], settings: ApproveRequest | Body | None = None) -> Call[BulkConfirmResult]:
    """POST /jobs/bulk/confirm: queues many jobs; `errors` names each one that could not be."""
    body = {"jobIds": list(job_ids), "settings": body_of(ApproveRequest, settings, {})}
    return Call("POST", "/jobs/bulk/confirm", one(BulkConfirmResult), json=body)


def init_stream(job_id: str) -> Call[StreamInit]:
    """POST /jobs/{id}/stream/init: starts (or restarts) a chunked upload of the job's source."""
    return Call("POST", f"/jobs/{path_id(job_id)}/stream/init", one(StreamInit), retry_safe=True)


def upload_chunk(job_id: str, index: int, data: bytes) -> Call[ChunkUploaded]:
    """PUT /jobs/{id}/stream/chunk/{index}: one chunk (1-10000), its MD5 in `etag`."""
    path = f"/jobs/{path_id(job_id)}/stream/chunk/{index}"
    return Call("PUT", path, one(ChunkUploaded), body=file_body(data, "application/octet-stream"))


def finalize_stream(job_id: str, parts: Sequence[Mapping[str, Any]] | None = None) -> Call[StreamFinalized]:
    """POST /jobs/{id}/stream/finalize: joins the chunks (`parts`: [{"PartNumber", "ETag"}] to check them)."""
    body = {"parts": list(parts)} if parts is not None else None
    return Call("POST", f"/jobs/{path_id(job_id)}/stream/finalize", one(StreamFinalized), json=body)


def abort_stream(job_id: str) -> Call[Ok]:
    """POST /jobs/{id}/stream/abort: drops the chunks uploaded so far."""
    return Call("POST", f"/jobs/{path_id(job_id)}/stream/abort", one(Ok), retry_safe=True)


_CHUNK = 1 << 20


def _read(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(_CHUNK):
        yield chunk


async def _aread(handle: BinaryIO) -> AsyncIterator[bytes]:
    for chunk in _read(handle):
        yield chunk


def file_body(source: bytes | str | os.PathLike[str], content_type: str) -> Callable[[ExitStack, bool], dict[str, Any]]:
    """A request body of bytes, or of a file streamed from disk (opened anew for each attempt)."""

    def make(stack: ExitStack, is_async: bool) -> dict[str, Any]:
        headers = {"Content-Type": content_type}
        if isinstance(source, bytes):
            return {"content": source, "headers": headers}
        path = Path(source)
        handle = stack.enter_context(open(path, "rb"))
        headers["Content-Length"] = str(path.stat().st_size)
        return {"content": _aread(handle) if is_async else _read(handle), "headers": headers}

    return make


def upload_source(upload_url: str, source: bytes | str | os.PathLike[str]) -> Call[SourceUploaded]:
    """PUT to `JobCreated.upload.url` (signed: no credentials): the classic job's source, streamed from a file."""
    return Call("PUT", upload_url, one(SourceUploaded), body=file_body(source, "application/octet-stream"))
