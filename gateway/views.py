"""Job protos -> the JSON each dialect documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from protos.common.v1 import errors_pb2, media_pb2
from protos.jobs.v1 import jobs_pb2
from services.common.destinations import s3_key
from services.common.encode_options import RULES

ENCODE_STATUS = {
    jobs_pb2.JOB_STATUS_CREATED: "created",
    jobs_pb2.JOB_STATUS_QUEUED: "queued",
    jobs_pb2.JOB_STATUS_RUNNING: "running",
    jobs_pb2.JOB_STATUS_SUCCEEDED: "success",
    jobs_pb2.JOB_STATUS_FAILED: "failed",
    jobs_pb2.JOB_STATUS_CANCELED: "canceled",
}
MEDIA_STATUS = {
    jobs_pb2.JOB_STATUS_CREATED: "pending",
    jobs_pb2.JOB_STATUS_QUEUED: "pending",
    jobs_pb2.JOB_STATUS_RUNNING: "processing",
    jobs_pb2.JOB_STATUS_SUCCEEDED: "completed",
    jobs_pb2.JOB_STATUS_FAILED: "failed",
    jobs_pb2.JOB_STATUS_CANCELED: "cancelled",
}
MEDIA_STATUS_FILTER = {
    "pending": jobs_pb2.JOB_STATUS_QUEUED,
    "processing": jobs_pb2.JOB_STATUS_RUNNING,
    "completed": jobs_pb2.JOB_STATUS_SUCCEEDED,
    "failed": jobs_pb2.JOB_STATUS_FAILED,
    "cancelled": jobs_pb2.JOB_STATUS_CANCELED,
}


def iso(ts: Timestamp, present: bool) -> str | None:
    """RFC 3339 in UTC with a Z, or None for an unset timestamp."""
    if not present:
        return None
    return ts.ToDatetime(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def metadata(job: jobs_pb2.Job) -> dict[str, Any] | None:
    return json.loads(job.metadata_json) if job.metadata_json else None


def probe(p: media_pb2.MediaProbe, present: bool) -> dict[str, Any] | None:
    """The contract's MediaProbe."""
    if not present:
        return None
    return {
        "durationSec": round(p.duration_sec, 3),
        "codec": p.video_codec or None,
        "width": p.width or None,
        "height": p.height or None,
        "rotation": p.rotation,
        "fps": round(p.fps, 3) if p.fps else None,
        "audioStreams": p.audio_streams,
        "audioCodec": p.audio_codec or None,
        "container": p.container or None,
        "bitRate": p.bit_rate or None,
        "sizeBytes": p.size_bytes or None,
        "color": {
            "kind": p.color.kind or "unknown",
            "primaries": p.color.primaries or None,
            "transfer": p.color.transfer or None,
            "matrix": p.color.matrix or None,
            "range": p.color.range or None,
            "notes": list(p.color.notes),
        },
    }


def failure_code(job: jobs_pb2.Job) -> str | None:
    if job.failure_reason == errors_pb2.ERROR_REASON_UNSPECIFIED:
        return None
    return errors_pb2.ErrorReason.Name(job.failure_reason).lower()


def execution(job: jobs_pb2.Job, *, snake: bool = False) -> dict[str, Any]:
    """The options the job was asked for: every encode option (poster_at_sec only when set)."""
    o = job.options
    values: dict[str, Any] = {}
    for rule in RULES.values():
        if rule.default is None:
            if o.HasField(rule.name):  # type: ignore[arg-type]  # optional fields: the rules name them
                values[rule.name] = getattr(o, rule.name)
            continue
        value = getattr(o, rule.name)
        values[rule.name] = value or rule.default  # jobs stores every option; a zero is an older record's "unset"
    if snake:
        return values
    return {RULES[k].api_name: v for k, v in values.items()}


def destination(job: jobs_pb2.Job) -> dict[str, Any]:
    """Where the output goes besides the download link: the contract's destination object."""
    d = job.destination
    if d.HasField("s3"):
        return {"type": "s3", "bucket": d.s3.bucket, "key": s3_key(d.s3, job.output_filename)}
    if d.HasField("google_drive"):
        drive = d.google_drive
        return {"type": "google-drive", "folderId": drive.folder_id, "fileName": drive.file_name or job.output_filename}
    return {"type": "cdn"}


def effective(job: jobs_pb2.Job) -> dict[str, Any] | None:
    """What the encode actually produced (after a success)."""
    if job.status != jobs_pb2.JOB_STATUS_SUCCEEDED:
        return None
    out = job.output_probe
    return {
        "encoder": job.encoder,
        "codec": job.options.codec,
        "container": job.options.container,
        "width": out.width or None,
        "height": out.height or None,
        "fps": round(out.fps, 3) if out.fps else None,
        "passes": job.effective_passes or 1,
        "audioCodec": out.audio_codec or None,
    }


def warnings(job: jobs_pb2.Job) -> list[dict[str, str]]:
    return [{"code": "encode_note", "message": w, "severity": "warning"} for w in job.warnings]


def cancel_result(answer: jobs_pb2.CancelJobResponse) -> dict[str, Any]:
    """JobCancelResponse: ok, the credits released, and a note when it was a no-op."""
    body: dict[str, Any] = {"ok": True, "released": answer.released, "status": ENCODE_STATUS[answer.job.status]}
    if answer.note:
        body["note"] = answer.note
    return body


def pricing(job: jobs_pb2.Job) -> dict[str, Any] | None:
    """The Encode API's `pricing`, from the job's estimate."""
    if not job.HasField("estimate"):
        return None
    e = job.estimate
    return {
        "basePerMinute": e.base_per_minute,
        "onDemandPerMinute": e.on_demand_per_minute,
        "multiplier": e.multiplier,
        "totalNeu": e.total_neu,
        "reserved": e.reserved,
        "requestedPasses": e.requested_passes,
        "effectivePasses": e.effective_passes,
    }


def billing(job: jobs_pb2.Job) -> dict[str, Any] | None:
    """What the job costs: estimated, held now, and charged (once it succeeded)."""
    if not job.HasField("estimate"):
        return None
    succeeded = job.status == jobs_pb2.JOB_STATUS_SUCCEEDED
    return {
        "estimatedNeu": job.estimate.total_neu,
        "reservedNeu": job.estimate.reserved,
        "chargedNeu": job.charged_neu if succeeded else 0,
        "durationSec": round(job.estimate.duration_sec, 3) or None,
        "multiplier": job.estimate.multiplier,
    }


def encode_created(job: jobs_pb2.Job) -> dict[str, Any]:
    """OnDemandEncodeResponse."""
    return {
        "jobId": job.id,
        "status": ENCODE_STATUS[job.status],
        "statusUrl": f"/ondemand/status/{job.id}",
        "externalId": job.external_id or None,
        "metadata": metadata(job),
        "sourceFilename": job.source_filename or None,
        "outputFilename": job.output_filename or None,
        "estimatedDuration": round(job.estimate.duration_sec) if job.HasField("estimate") else None,
        "pricing": pricing(job),
        "packageType": None,
        "playbackUrl": None,
        "webhook": job.callback_url or None,
    }


def encode_status(job: jobs_pb2.Job, download_url: str | None, now: datetime) -> dict[str, Any]:
    """OnDemandStatusResponse."""
    expires_in = None
    if download_url is not None and job.HasField("output_expires_at"):
        expires_in = max(0, int((job.output_expires_at.ToDatetime(tzinfo=UTC) - now).total_seconds()))
    return {
        "jobId": job.id,
        "externalId": job.external_id or None,
        "metadata": metadata(job),
        "sourceFilename": job.source_filename or None,
        "outputFilename": job.output_filename or None,
        "status": ENCODE_STATUS[job.status],
        "progress": round(job.progress, 1),
        "encoder": job.encoder or None,
        "downloadUrl": download_url,
        "playbackUrl": None,
        "hlsPackage": None,
        "expiresIn": expires_in,
        "destination": destination(job),
        "createdAt": iso(job.created_at, job.HasField("created_at")),
        "startedAt": iso(job.started_at, job.HasField("started_at")),
        "finishedAt": iso(job.finished_at, job.HasField("finished_at")),
        "failureMessage": job.failure_message or None,
        "failureCode": failure_code(job),
        "requestedExecution": execution(job),
        "effectiveExecution": effective(job),
        "sourceProbe": probe(job.source_probe, job.HasField("source_probe")),
        "outputProbe": probe(job.output_probe, job.HasField("output_probe")),
        "warnings": warnings(job),
        "billingSummary": billing(job),
        "executionReport": execution_report(job),
    }


def execution_report(job: jobs_pb2.Job) -> dict[str, Any] | None:
    """How the encode went: worker attempts, encoder, passes, timings."""
    if not job.HasField("started_at"):
        return None
    took = None
    if job.HasField("finished_at"):
        took = round((job.finished_at.ToDatetime() - job.started_at.ToDatetime()).total_seconds(), 3)
    return {
        "attempts": job.attempt,
        "encoder": job.encoder or None,
        "passes": job.effective_passes or None,
        "seconds": took,
    }


def media_job(job: jobs_pb2.Job, download_url: str | None) -> dict[str, Any]:
    """A job in the Media API's shape (the `data` of its envelope)."""
    duration = None
    if job.HasField("started_at") and job.HasField("finished_at"):
        duration = round((job.finished_at.ToDatetime() - job.started_at.ToDatetime()).total_seconds(), 3)
    result = None
    if job.status == jobs_pb2.JOB_STATUS_SUCCEEDED:
        result = {
            "file_id": job.output.key,
            "file_size": job.output.size_bytes,
            "filename": job.output_filename,
            "content_type": job.output.content_type,
            "download_url": download_url,
            "thumbnail_url": f"/api/v1/videos/{job.id}/thumbnail" if job.thumbnails else None,
        }
    error = None
    if job.status == jobs_pb2.JOB_STATUS_FAILED:
        error = {"code": failure_code(job), "message": job.failure_message}
    return {
        "id": job.id,
        "type": "video_encode",
        "status": MEDIA_STATUS[job.status],
        "progress": round(job.progress, 1),
        "created_at": iso(job.created_at, job.HasField("created_at")),
        "started_at": iso(job.started_at, job.HasField("started_at")),
        "completed_at": iso(job.finished_at, job.HasField("finished_at")),
        "duration": duration,
        "parameters": {"source_url": job.source.url, **execution(job, snake=True), "metadata": metadata(job)},
        "result": result,
        "error": error,
    }
