"""Request bodies of the Encode API, by snake_case name (sent camelCase); the server validates the values.

The option values (codecs, resolutions, ...) are not repeated here: the platform's answer to a wrong one is a
`BadRequestError` whose `issues` name the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

R = TypeVar("R", bound="RequestModel")


class RequestModel(BaseModel):
    """A request body: unknown names are refused here (a typo never goes out silently)."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, extra="forbid")

    def wire(self) -> dict[str, Any]:
        """The JSON body: camelCase, only the fields that were given."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


class EncodeOptions(RequestModel):
    """The encode options every route that encodes takes."""

    codec: str | None = None
    resolution: str | None = None
    container: str | None = None
    preset: str | None = None
    quality: str | None = None
    audio_policy: str | None = None
    scale_policy: str | None = None
    fps: int | None = None
    frame_rate_policy: str | None = None
    bitrate_tier: str | None = None
    passes: int | None = None
    poster_at_sec: float | None = None


class OnDemandEncodeRequest(EncodeOptions):
    """POST /ondemand/encode: `source_url`, or `source_file_id` for a file uploaded through the Media API."""

    source_url: str | None = None
    source_file_id: str | None = None
    external_id: str | None = None
    metadata: dict[str, Any] | None = None
    priority: str | None = None
    output_expiry: int | None = None
    webhook: str | None = None
    output_s3: dict[str, Any] | None = None
    output_google_drive: dict[str, Any] | None = None


class FolderIngestRequest(EncodeOptions):
    """POST /ondemand/ingest/folder: one of the sources; the jobs' outputs to the CDN, S3 or Google Drive."""

    source_s3: dict[str, Any] | None = None
    source_google_drive: dict[str, Any] | None = None
    source_google_drive_files: list[dict[str, Any]] | None = None
    output_destination: str | None = None
    output_s3: dict[str, Any] | None = None
    output_google_drive: dict[str, Any] | None = None
    max_files: int | None = None
    external_id_prefix: str | None = None
    metadata: dict[str, Any] | None = None
    priority: str | None = None
    output_expiry: int | None = None


class JobCreateRequest(EncodeOptions):
    """POST /jobs (the classic flow): codec, resolution and fps are required by the contract."""

    external_id: str | None = None
    metadata: dict[str, Any] | None = None
    policy: str | None = None
    source_url: str | None = None
    original_filename: str | None = None
    source_s3: dict[str, Any] | None = None
    confirm: bool | None = None
    priority: str | None = None


class ApproveRequest(EncodeOptions):
    """POST /jobs/{id}/approve-unified and /confirm: settings that may still change."""

    policy: str | None = None


class BulkSettings(EncodeOptions):
    """The `settings` of POST /jobs/bulk: shared options, and failFast, dryRun, confirm."""

    fail_fast: bool | None = None
    dry_run: bool | None = None
    confirm: bool | None = None


def body_of(model: type[R], given: R | Mapping[str, Any] | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON body from a request model, a raw mapping (sent as it is), or keyword fields (None left out)."""
    base = given.wire() if isinstance(given, RequestModel) else dict(given or {})
    return base | model(**{k: v for k, v in fields.items() if v is not None}).wire()
