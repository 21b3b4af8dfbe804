"""What a job event is called in each dialect, and the JSON body a subscription receives for it.

Encode API (contract §5.1): `{event, timestamp, data: {jobId, userId, status, encoder, durationSec,
finalNeu, externalId, metadata, progress, error?, failureCode?}}` with events job.created, job.queued,
job.running, job.completed, job.failed, job.canceled.
Media API: `{event, timestamp, data: {job_id, type, status, progress, result: {file_id, download_url,
thumbnail_url}, error?}}` with events job.started, job.progress (every ten percent), job.completed,
job.failed, job.cancelled.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from protos.common.v1 import errors_pb2
from protos.jobs.v1 import jobs_pb2

ENCODE_EVENTS = {
    "created": "job.created",
    "queued": "job.queued",
    "running": "job.running",
    "succeeded": "job.completed",
    "failed": "job.failed",
    "canceled": "job.canceled",
}
MEDIA_EVENTS = {
    "running": "job.started",
    "progress": "job.progress",
    "succeeded": "job.completed",
    "failed": "job.failed",
    "canceled": "job.cancelled",
}
SUBSCRIBABLE = {"encode": frozenset(ENCODE_EVENTS.values()), "media": frozenset(MEDIA_EVENTS.values())}
TEST_EVENT = "webhook.test"

TYPES = {
    jobs_pb2.JOB_STATUS_CREATED: "created",
    jobs_pb2.JOB_STATUS_QUEUED: "queued",
    jobs_pb2.JOB_STATUS_RUNNING: "running",
    jobs_pb2.JOB_STATUS_SUCCEEDED: "succeeded",
    jobs_pb2.JOB_STATUS_FAILED: "failed",
    jobs_pb2.JOB_STATUS_CANCELED: "canceled",
}
_ENCODE_STATUS = {"succeeded": "success"}
_MEDIA_STATUS = {
    "created": "pending",
    "queued": "pending",
    "running": "processing",
    "succeeded": "completed",
    "failed": "failed",
    "canceled": "cancelled",
}


def event_type(job: jobs_pb2.Job, progress_step: int) -> str:
    """The dialect-neutral type of a job event."""
    return "progress" if progress_step else TYPES[job.status]


def event_name(dialect: str, type_: str) -> str | None:
    """The name a dialect gives an event type; None when the dialect has no such event."""
    return (MEDIA_EVENTS if dialect == "media" else ENCODE_EVENTS).get(type_)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class UnencodableEvent(ValueError):
    """An event whose data cannot be written as UTF-8 JSON (text that is not valid Unicode)."""


def _dumps(value: dict[str, Any]) -> bytes:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    except (UnicodeEncodeError, ValueError, TypeError) as exc:  # the message says what, never the text itself
        raise UnencodableEvent(f"The event could not be written as UTF-8 JSON ({type(exc).__name__}).") from None


def _failure_code(job: jobs_pb2.Job) -> str | None:
    if job.failure_reason == errors_pb2.ERROR_REASON_UNSPECIFIED:
        return None
    return errors_pb2.ErrorReason.Name(job.failure_reason).lower()


def _metadata(job: jobs_pb2.Job) -> Any:
    try:
        return json.loads(job.metadata_json) if job.metadata_json else None
    except ValueError:
        return None


def encode_data(job: jobs_pb2.Job, type_: str, progress_step: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        "jobId": job.id,
        "userId": job.account_id,
        "status": _ENCODE_STATUS.get(TYPES[job.status], TYPES[job.status]),
        "progress": progress_step * 10 if type_ == "progress" else round(job.progress, 1),
        "encoder": job.encoder or None,
        "durationSec": round(job.source_probe.duration_sec, 3) if job.source_probe.duration_sec else None,
        "finalNeu": job.charged_neu if job.status == jobs_pb2.JOB_STATUS_SUCCEEDED else None,
        "externalId": job.external_id or None,
        "metadata": _metadata(job),
    }
    if job.status == jobs_pb2.JOB_STATUS_FAILED:
        data["error"] = job.failure_message or None
        data["failureCode"] = _failure_code(job)
    return data


def media_data(job: jobs_pb2.Job, type_: str, progress_step: int, public_url: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "job_id": job.id,
        "type": "video_encoding",
        "status": _MEDIA_STATUS[TYPES[job.status]],
        "progress": progress_step * 10 if type_ == "progress" else round(job.progress, 1),
    }
    if job.status == jobs_pb2.JOB_STATUS_SUCCEEDED:
        base = f"{public_url.rstrip('/')}/api/v1/videos/{job.id}"
        data["result"] = {
            "file_id": job.id,
            "download_url": f"{base}/download",
            "thumbnail_url": f"{base}/thumbnail",
        }
    if job.status == jobs_pb2.JOB_STATUS_FAILED:
        data["error"] = {"code": _failure_code(job), "message": job.failure_message}
    return data


def job_body(dialect: str, job: jobs_pb2.Job, progress_step: int, at: datetime, public_url: str) -> tuple[str, bytes]:
    """(event name, body) for a job event, or ("", b"") when the dialect has no such event; UnencodableEvent
    when its data cannot be written."""
    type_ = event_type(job, progress_step)
    name = event_name(dialect, type_)
    if name is None:
        return "", b""
    if dialect == "media":
        data = media_data(job, type_, progress_step, public_url)
    else:
        data = encode_data(job, type_, progress_step)
    return name, _dumps({"event": name, "timestamp": _iso(at), "data": data})


def ping_body(webhook_id: str, at: datetime) -> bytes:
    return _dumps(
        {
            "event": TEST_EVENT,
            "timestamp": _iso(at),
            "data": {"webhookId": webhook_id, "message": "This is a test event from vidkiln."},
        }
    )


def feed_item(seq: int, event_id: str, job: jobs_pb2.Job, progress_step: int, at: datetime) -> dict[str, Any]:
    """One entry of GET /events (the Encode API's names; progress events are `job.progress`)."""
    type_ = event_type(job, progress_step)
    return {
        "seq": seq,
        "id": event_id,
        "event": ENCODE_EVENTS.get(type_, f"job.{type_}"),
        "timestamp": _iso(at),
        "data": encode_data(job, type_, progress_step),
    }
