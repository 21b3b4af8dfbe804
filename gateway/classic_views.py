"""Encode API answers of the classic flow: POST /jobs, statuses, approvals, bulk, credits."""

from __future__ import annotations

from typing import Any

from gateway import views
from gateway.errors import CODES
from protos.common.v1 import errors_pb2
from protos.jobs.v1 import jobs_pb2
from services.common import blobkeys


def estimate(e: jobs_pb2.Estimate) -> dict[str, Any]:
    return {
        "neu": e.total_neu,
        "perMinuteNeu": e.base_per_minute * e.multiplier,
        "durationSec": round(e.duration_sec, 3) or None,
        "totalNeu": e.total_neu,
        "reserved": e.reserved,
        "requestedPasses": e.requested_passes,
        "effectivePasses": e.effective_passes,
    }


def created(job: jobs_pb2.Job, upload: dict[str, str] | None, output_url: str | None) -> dict[str, Any]:
    """JobCreateResponse."""
    body: dict[str, Any] = {
        "jobId": job.id,
        "externalId": job.external_id or None,
        "metadata": views.metadata(job),
        "sourceFilename": job.source_filename or None,
        "outputFilename": job.output_filename or None,
        "upload": upload,
        "output": {"key": job.output.key or _output_key(job), "publicUrl": output_url},
        "estimate": estimate(job.estimate) if job.HasField("estimate") else None,
        "warnings": views.warnings(job),
    }
    if job.status != jobs_pb2.JOB_STATUS_CREATED:
        body["status"] = views.ENCODE_STATUS[job.status]
    return body


def _output_key(job: jobs_pb2.Job) -> str:
    return blobkeys.output(job.id, job.options.container or "mp4")


def status(job: jobs_pb2.Job, download_url: str | None) -> dict[str, Any]:
    """StatusResponse (GET /jobs/{id}/status): `pct` rather than on-demand's `progress`."""
    ingest = "uploaded" if job.HasField("uploaded_at") else ("url" if job.source.url else "awaiting_upload")
    return {
        "id": job.id,
        "externalId": job.external_id or None,
        "metadata": views.metadata(job),
        "sourceFilename": job.source_filename or None,
        "outputFilename": job.output_filename or None,
        "status": views.ENCODE_STATUS[job.status],
        "ingest": ingest,
        "container": job.options.container or None,
        "quality": job.options.quality or None,
        "output": {"key": job.output.key or _output_key(job), "publicUrl": download_url},
        "downloadUrl": download_url,
        "encoder": job.encoder or None,
        "pct": round(job.progress, 1),
        "createdAt": views.iso(job.created_at, job.HasField("created_at")),
        "startedAt": views.iso(job.started_at, job.HasField("started_at")),
        "finishedAt": views.iso(job.finished_at, job.HasField("finished_at")),
        "failureMessage": job.failure_message or None,
        "failureCode": views.failure_code(job),
        "requestedExecution": views.execution(job),
        "effectiveExecution": views.effective(job),
        "sourceProbe": views.probe(job.source_probe, job.HasField("source_probe")),
        "outputProbe": views.probe(job.output_probe, job.HasField("output_probe")),
        "warnings": views.warnings(job),
        "billingSummary": views.billing(job),
        "executionReport": views.execution_report(job),
    }


def bulk(answer: jobs_pb2.CreateJobsResponse, warnings: list[dict[str, str]]) -> dict[str, Any]:
    """BulkCreateResponse."""
    jobs = []
    for result in answer.results:
        job = result.job if result.HasField("job") else None
        error = None
        if result.error_reason != errors_pb2.ERROR_REASON_UNSPECIFIED:
            error = result.error
        jobs.append(
            {
                "index": result.index,
                "jobId": job.id if job else None,
                "externalId": (job.external_id or None) if job else None,
                "metadata": views.metadata(job) if job else None,
                "status": views.ENCODE_STATUS[job.status] if job else ("failed" if error else "estimated"),
                "error": error,
                "errorCode": errors_pb2.ErrorReason.Name(result.error_reason).lower() if error else None,
                "estimate": {"neu": result.estimate.total_neu},
                "warnings": views.warnings(job) if job else [],
            }
        )
    return {
        "totalJobs": answer.total_jobs,
        "totalEstimatedNeu": answer.total_estimated_neu,
        "reserved": answer.reserved,
        "jobs": jobs,
        "warnings": warnings,
    }


def bulk_confirmed(answer: jobs_pb2.ConfirmJobsResponse, download_urls: list[str | None]) -> dict[str, Any]:
    """POST /jobs/bulk/confirm: `{queued, jobs}` as the contract has it, plus `errors`, one
    `{jobId, code, message}` per job not queued, its code the one POST /jobs/{id}/confirm would answer."""
    return {
        "queued": answer.queued,
        "jobs": [status(job, url) for job, url in zip(answer.jobs, download_urls, strict=True)],
        "errors": [
            {"jobId": f.job_id, "code": _encode_code(f.error_reason), "message": f.error} for f in answer.failures
        ],
    }


def _encode_code(reason: errors_pb2.ErrorReason.ValueType) -> str:
    """The Encode API's code of a reason, from the one table the error middleware uses."""
    return CODES.get(reason, (0, "internal_error", ""))[1]


def balance(b: jobs_pb2.Balance) -> dict[str, Any]:
    """TokenBalanceResponse."""
    return {
        "available": b.available,
        "reserved": b.reserved,
        "trialGrantRemaining": b.trial_remaining,
        "trialExpiresAt": views.iso(b.trial_expires_at, b.HasField("trial_expires_at")),
    }
