"""Typed answers of the Encode API's jobs: on-demand and classic, statuses, bulk, uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from vidkiln.client.models._base import EncodeModel

TERMINAL = frozenset({"success", "failed", "canceled"})


class Ok(EncodeModel):
    ok: bool = True


class Health(EncodeModel):
    status: str


class CompatibilityWarning(EncodeModel):
    code: str
    message: str
    severity: str = "warning"


class ColorProbe(EncodeModel):
    kind: str = "unknown"
    primaries: str | None = None
    transfer: str | None = None
    matrix: str | None = None
    range: str | None = None
    notes: list[str] = []


class MediaProbe(EncodeModel):
    """What a probe read from a source or an output."""

    duration_sec: float = 0.0
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    rotation: int = 0
    fps: float | None = None
    audio_streams: int = 0
    audio_codec: str | None = None
    container: str | None = None
    bit_rate: int | None = None
    size_bytes: int | None = None
    color: ColorProbe | None = None


class Pricing(EncodeModel):
    base_per_minute: float
    on_demand_per_minute: float
    multiplier: float
    total_neu: float
    reserved: float
    requested_passes: int
    effective_passes: int


class Estimate(EncodeModel):
    neu: float | None = None
    per_minute_neu: float | None = None
    duration_sec: float | None = None
    total_neu: float | None = None
    reserved: float | None = None
    requested_passes: int | None = None
    effective_passes: int | None = None


class BillingSummary(EncodeModel):
    estimated_neu: float
    reserved_neu: float
    charged_neu: float
    duration_sec: float | None = None
    multiplier: float | None = None


class ExecutionReport(EncodeModel):
    attempts: int = 0
    encoder: str | None = None
    passes: int | None = None
    seconds: float | None = None


class _JobFields(EncodeModel):
    """What every status answer of a job carries."""

    external_id: str | None = None
    metadata: dict[str, Any] | None = None
    source_filename: str | None = None
    output_filename: str | None = None
    status: str
    encoder: str | None = None
    download_url: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    failure_message: str | None = None
    failure_code: str | None = None
    requested_execution: dict[str, Any] | None = None
    effective_execution: dict[str, Any] | None = None
    source_probe: MediaProbe | None = None
    output_probe: MediaProbe | None = None
    warnings: list[CompatibilityWarning] = []
    billing_summary: BillingSummary | None = None
    execution_report: ExecutionReport | None = None

    @property
    def terminal(self) -> bool:
        """success, failed or canceled: the job will not change again."""
        return self.status in TERMINAL


class EncodeJob(EncodeModel):
    """POST /ondemand/encode's answer."""

    job_id: str
    status: str
    status_url: str
    external_id: str | None = None
    metadata: dict[str, Any] | None = None
    source_filename: str | None = None
    output_filename: str | None = None
    estimated_duration: float | None = None
    pricing: Pricing | None = None
    package_type: str | None = None
    playback_url: str | None = None
    webhook: str | None = None


class Destination(EncodeModel):
    type: str
    bucket: str | None = None
    key: str | None = None
    folder_id: str | None = None
    file_name: str | None = None


class OnDemandStatus(_JobFields):
    """GET /ondemand/status/{jobId}: `progress` 0-100."""

    job_id: str
    progress: float | None = None
    playback_url: str | None = None
    hls_package: dict[str, Any] | None = None
    expires_in: int | None = None
    destination: Destination | None = None


class OutputRef(EncodeModel):
    key: str
    public_url: str | None = None


class JobStatus(_JobFields):
    """GET /jobs/{id}/status (the classic flow): `pct` 0-100 and `id` rather than `progress` and `jobId`."""

    id: str
    pct: float | None = None
    ingest: str | None = None
    container: str | None = None
    quality: str | None = None
    output: OutputRef | None = None

    @property
    def job_id(self) -> str:
        return self.id


class UploadTarget(EncodeModel):
    url: str  # a signed PUT (see `upload_source`)
    key: str


class JobCreated(EncodeModel):
    """POST /jobs's answer: an `upload` target unless the job has a source; `status` once it is queued."""

    job_id: str
    external_id: str | None = None
    metadata: dict[str, Any] | None = None
    source_filename: str | None = None
    output_filename: str | None = None
    upload: UploadTarget | None = None
    output: OutputRef | None = None
    estimate: Estimate | None = None
    warnings: list[CompatibilityWarning] = []
    status: str | None = None


class ProbeDuration(EncodeModel):
    duration_sec: float
    duration_minutes: float


class ApproveResult(EncodeModel):
    ok: bool
    estimate: Estimate
    warnings: list[CompatibilityWarning] = []


class ConfirmResult(EncodeModel):
    ok: bool
    job_id: str
    status: str


class CancelResult(EncodeModel):
    ok: bool
    released: float = 0.0
    status: str | None = None
    note: str | None = None


class JobFilesDeleted(EncodeModel):
    ok: bool
    job_id: str
    objects_deleted: int
    job_retained: bool


class BulkJob(EncodeModel):
    index: int
    job_id: str | None = None
    external_id: str | None = None
    metadata: dict[str, Any] | None = None
    status: str
    error: str | None = None
    error_code: str | None = None
    estimate: Estimate | None = None
    warnings: list[CompatibilityWarning] = []


class BulkCreateResult(EncodeModel):
    total_jobs: int
    total_estimated_neu: float
    reserved: float
    jobs: list[BulkJob]
    warnings: list[CompatibilityWarning] = []


class BulkStatus(EncodeModel):
    jobs: list[JobStatus]
    missing: list[str]


class BulkConfirmError(EncodeModel):
    job_id: str
    code: str
    message: str


class BulkConfirmResult(EncodeModel):
    queued: int
    jobs: list[JobStatus]
    errors: list[BulkConfirmError] = []


class StreamInit(EncodeModel):
    ok: bool
    upload_id: str
    input_key: str


class ChunkUploaded(EncodeModel):
    ok: bool
    index: int
    size: int
    etag: str = Field(alias="ETag")


class StreamFinalized(EncodeModel):
    ok: bool
    key: str
    size: int
    parts: int


class SourceUploaded(EncodeModel):
    """The signed PUT's answer."""

    ok: bool
    key: str
    size: int
    etag: str = Field(alias="ETag")
