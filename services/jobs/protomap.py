"""Job rows <-> jobs.v1 protos (used by the servicer and by the events jobs publishes)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format

from protos.common.v1 import errors_pb2, media_pb2, storage_pb2
from protos.jobs.v1 import jobs_pb2
from services.common.timestamps import timestamp
from services.jobs.models import Job, JobLog
from services.jobs.states import JobState

STATUS_TO_PROTO = {
    JobState.CREATED: jobs_pb2.JOB_STATUS_CREATED,
    JobState.QUEUED: jobs_pb2.JOB_STATUS_QUEUED,
    JobState.RUNNING: jobs_pb2.JOB_STATUS_RUNNING,
    JobState.SUCCEEDED: jobs_pb2.JOB_STATUS_SUCCEEDED,
    JobState.FAILED: jobs_pb2.JOB_STATUS_FAILED,
    JobState.CANCELED: jobs_pb2.JOB_STATUS_CANCELED,
}
STATUS_FROM_PROTO = {v: k for k, v in STATUS_TO_PROTO.items()}


def probe_to_dict(probe: media_pb2.MediaProbe) -> dict[str, Any]:
    return json_format.MessageToDict(probe, preserving_proto_field_name=True)


def probe_from_dict(data: dict[str, Any] | None) -> media_pb2.MediaProbe | None:
    if data is None:
        return None
    return json_format.ParseDict(data, media_pb2.MediaProbe(), ignore_unknown_fields=True)


def options_to_proto(options: dict[str, Any]) -> jobs_pb2.EncodeOptions:
    known = jobs_pb2.EncodeOptions.DESCRIPTOR.fields_by_name
    return jobs_pb2.EncodeOptions(**{k: v for k, v in options.items() if k in known})


def options_from_proto(options: jobs_pb2.EncodeOptions) -> dict[str, object]:
    """The options a caller set (proto3 zero values and unset optionals mean "not given")."""
    given: dict[str, object] = {f.name: getattr(options, f.name) for f in options.DESCRIPTOR.fields}
    if not options.HasField("poster_at_sec"):
        given.pop("poster_at_sec")
    return given


def source_of(job: Job, *, with_credentials: bool = False) -> storage_pb2.Source:
    """Where the job reads (credentials only for the worker's task, as for destination_of)."""
    if job.source_spec:
        found = storage_pb2.Source.FromString(job.source_spec)
        if not with_credentials:
            strip_credentials(found)
        return found
    if job.source_key:
        return storage_pb2.Source(blob_key=job.source_key)
    return storage_pb2.Source(url=job.source_url or "")


def destination_of(job: Job, *, with_credentials: bool) -> storage_pb2.Destination:
    """Where the output goes: the blob store, and the customer's bucket or folder if any (credentials
    only for the worker's task: never in what is shown or published)."""
    found = storage_pb2.Destination.FromString(job.destination) if job.destination else storage_pb2.Destination()
    found.cdn.expiry_seconds = job.output_expiry_seconds
    if not with_credentials:
        strip_credentials(found)
    return found


def strip_credentials(place: storage_pb2.Destination | storage_pb2.Source) -> None:
    if place.HasField("s3"):
        place.s3.credentials = ""
    if place.HasField("google_drive"):
        place.google_drive.credentials = ""


def job_to_proto(job: Job) -> jobs_pb2.Job:
    """The whole record as the contract describes it."""
    output = None
    if job.output_size is not None:
        output = media_pb2.StoredObject(
            key=job.output_key,
            size_bytes=job.output_size,
            content_type=job.output_content_type or "",
            filename=job.output_filename,
        )
    reason = errors_pb2.ERROR_REASON_UNSPECIFIED
    if job.failure_reason:
        reason = errors_pb2.ErrorReason.Value(job.failure_reason)
    return jobs_pb2.Job(
        id=str(job.id),
        account_id=str(job.account_id),
        status=STATUS_TO_PROTO[JobState(job.status)],
        options=options_to_proto(job.options),
        source=source_of(job),
        destination=destination_of(job, with_credentials=False),
        external_id=job.external_id or "",
        metadata_json=job.metadata_json or "",
        priority=job.priority,
        progress=job.progress,
        created_at=timestamp(job.created_at),
        queued_at=timestamp(job.queued_at),
        started_at=timestamp(job.started_at),
        finished_at=timestamp(job.finished_at),
        failure_reason=reason,
        failure_message=job.failure_message or "",
        output=output,
        source_probe=probe_from_dict(job.source_probe),
        output_probe=probe_from_dict(job.output_probe),
        encoder=job.encoder or "",
        output_expires_at=timestamp(job.output_expires_at),
        source_filename=job.source_filename,
        callback_url=job.callback_url or "",
        output_filename=job.output_filename,
        attempt=job.attempt,
        thumbnails=[json_format.ParseDict(t, media_pb2.StoredObject()) for t in job.thumbnails or ()],
        effective_passes=job.effective_passes or 0,
        warnings=job.warnings or [],
        mode=jobs_pb2.JOB_MODE_CLASSIC if job.mode == "classic" else jobs_pb2.JOB_MODE_ON_DEMAND,
        estimate=_estimate(job),
        charged_neu=job.charged_neu or 0,
        uploaded_at=timestamp(job.uploaded_at),
        files_deleted_at=timestamp(job.files_deleted_at),
        deleted=job.deleted_at is not None,
        updated_at=timestamp(job.updated_at),
    )


def _estimate(job: Job) -> jobs_pb2.Estimate | None:
    if not job.pricing:
        return None
    p = job.pricing
    return jobs_pb2.Estimate(
        base_per_minute=float(p["basePerMinute"]),
        on_demand_per_minute=float(p["onDemandPerMinute"]),
        multiplier=float(p["multiplier"]),
        total_neu=int(p["totalNeu"]),
        reserved=job.reserved_neu,
        requested_passes=int(p["requestedPasses"]),
        effective_passes=int(p["effectivePasses"]),
        duration_sec=job.duration_sec or 0.0,
    )


def log_to_proto(entry: JobLog) -> jobs_pb2.JobLogEntry:
    return jobs_pb2.JobLogEntry(
        at=timestamp(entry.created_at),
        level=entry.level,
        message=entry.message,
        details_json=json.dumps(entry.details) if entry.details else "",
    )
