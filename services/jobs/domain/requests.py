"""Validating what a caller asks for, before anything is stored."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from protos.common.v1 import storage_pb2
from services.common import jsontext
from services.common.errors import FieldViolation, InvalidArgument, NotFound, R
from services.jobs import options as encode_options

EXTENSIONS = {"mp4": "mp4", "mkv": "mkv", "webm": "webm", "mov": "mov"}
_METADATA_MAX = 16 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class NewJob:
    """A validated create request."""

    options: encode_options.Options
    source: storage_pb2.Source | None  # None: the classic flow's upload comes later
    external_id: str
    metadata_json: str
    priority: str
    output_expiry: int
    on_demand: bool
    confirm: bool
    filename: str = ""  # the caller's name for the source (classic: originalFilename)
    # A customer bucket or folder the output also goes to, credentials sealed (None: the blob store only).
    deliver_to: storage_pb2.Destination | None = None
    callback_url: str = ""  # one unsigned callback when the job ends (on-demand's `webhook`)
    # What the caller named, for ingest to resolve (instead of `source` / `deliver_to`, already resolved).
    source_ref: storage_pb2.SourceRef | None = None
    destination_ref: storage_pb2.DestinationRef | None = None


def parse_id(job_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(job_id)
    except ValueError as exc:
        raise NotFound("No such job.", reason=R.JOB_NOT_FOUND) from exc


def new_job(
    *,
    options: Mapping[str, object],
    source: storage_pb2.Source | None,
    external_id: str = "",
    metadata_json: str = "",
    priority: str = "",
    output_expiry: int = 0,
    on_demand: bool = True,
    confirm: bool = False,
    filename: str = "",
    destination: storage_pb2.Destination | None = None,
    callback_url: str = "",
    source_ref: storage_pb2.SourceRef | None = None,
    destination_ref: storage_pb2.DestinationRef | None = None,
) -> NewJob:
    """Checks every field (all the problems at once) and fills in defaults."""
    violations: list[FieldViolation] = []
    try:
        chosen = encode_options.normalize(options)
    except InvalidArgument as exc:
        if exc.reason != R.BODY_INVALID:
            raise
        violations += exc.violations
        chosen = {}
    priority = priority or "normal"
    expiry = output_expiry or 86400
    if len(external_id) > 255:
        violations.append(FieldViolation("externalId", "must be at most 255 characters"))
    if metadata_json:
        violations += _metadata_problems(metadata_json)
    if priority not in encode_options.PRIORITIES:
        violations.append(FieldViolation("priority", "must be one of normal, high"))
    if not 3600 <= expiry <= 604800:
        violations.append(FieldViolation("outputExpiry", "must be between 3600 and 604800 seconds"))
    has_source = source is not None and source.WhichOneof("kind") is not None
    has_ref = source_ref is not None and source_ref.WhichOneof("kind") is not None
    if has_source and has_ref:
        violations.append(FieldViolation("sourceRef", "not with source: name the source once"))
    elif on_demand and not (has_source or has_ref):
        violations.append(FieldViolation("sourceUrl", "is required"))
    if violations:
        raise InvalidArgument("The request is not valid.", reason=R.BODY_INVALID, violations=violations)
    wants_delivery = destination_ref is not None and has_delivery(destination_ref)
    return NewJob(
        chosen,
        source if has_source else None,
        external_id,
        metadata_json,
        priority,
        expiry,
        on_demand,
        confirm,
        filename[:255],
        destination if destination is not None and has_delivery(destination) else None,
        callback_url,
        source_ref if has_ref else None,
        destination_ref if wants_delivery else None,
    )


def _metadata_problems(metadata_json: str) -> list[FieldViolation]:
    """The metadata is a JSON object of at most 16 KiB, of encodable text, shallow enough to write back."""
    if len(metadata_json) > _METADATA_MAX:
        return [FieldViolation("metadata", f"must be at most {_METADATA_MAX} bytes of JSON")]
    try:
        metadata = jsontext.loads(metadata_json)
    except jsontext.JsonTextError as exc:
        return [FieldViolation("metadata", f"must be a JSON object of valid text: {exc}")]
    if not isinstance(metadata, dict):
        return [FieldViolation("metadata", "must be a JSON object")]
    return []


def has_delivery(destination: storage_pb2.Destination | storage_pb2.DestinationRef) -> bool:
    """Whether a destination names a customer bucket or folder."""
    return destination.HasField("s3") or destination.HasField("google_drive")


def output_filename(source_filename: str, resolution: str, container: str) -> str:
    """`<source stem>-<resolution>.<ext>`, reduced to characters safe in any header or file system."""
    stem = _UNSAFE.sub("_", PurePosixPath(source_filename).stem).strip(" ._") or "output"
    return f"{stem[:100]}-{resolution}.{EXTENSIONS[container]}"
