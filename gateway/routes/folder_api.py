"""POST /ondemand/ingest/folder: one on-demand job per video in a customer's S3 prefix or Drive folder."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.auth import requires
from gateway.clients import CLIENTS, call_options
from gateway.destinations import (
    GoogleDriveFolderSource,
    GoogleDriveOutput,
    S3FolderOutput,
    S3FolderSource,
    destination,
    folder_source,
)
from gateway.drive_files import selected_files
from gateway.idempotency import idempotency_of
from gateway.options import options_of
from gateway.routes.encode_api import metadata_json
from gateway.schemas import FolderIngestRequest, read_raw, validate
from protos.common.v1 import storage_pb2
from protos.ingest.v1 import ingest_pb2
from protos.jobs.v1 import jobs_pb2
from services.common.errors import FieldViolation, InvalidArgument, R

routes = web.RouteTableDef()


def _required(value: dict[str, Any] | None, field: str, output: str) -> dict[str, Any]:
    if value is None:
        raise InvalidArgument(
            f"outputDestination {output} needs {field}.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation(field, "is required")],
        )
    return value


def _output(body: FolderIngestRequest) -> storage_pb2.DestinationRef:
    """Where every job's output goes; S3 keys and Drive names come from each source's name."""
    s3 = drive = None
    if body.output_destination == "s3":
        s3 = validate(S3FolderOutput, _required(body.output_s3, "outputS3", "s3"), prefix="outputS3")
        s3.key = None  # one object per job: the prefix and each output's name
    elif body.output_destination == "google-drive":
        raw = _required(body.output_google_drive, "outputGoogleDrive", "google-drive")
        drive = validate(GoogleDriveOutput, raw, prefix="outputGoogleDrive")
        drive.file_name = None
    return destination(body.output_expiry, s3, drive)


async def _sources(request: web.Request, body: FolderIngestRequest) -> list[ingest_pb2.FolderItem]:
    """The videos to queue: an S3 prefix's or a Drive folder's (listed by ingest), or the selected files."""
    given = [body.source_s3, body.source_google_drive, body.source_google_drive_files]
    if sum(source is not None for source in given) != 1:
        raise InvalidArgument(
            "Give exactly one of sourceS3, sourceGoogleDrive and sourceGoogleDriveFiles.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation("sourceS3", "exactly one source is required")],
        )
    listing = ingest_pb2.ListFolderRequest(max_files=body.max_files or 0)
    if body.source_google_drive_files is not None:
        listing.files.extend(selected_files(body.source_google_drive_files))
    else:
        listing.folder_ref.CopyFrom(_folder(body))
    listed = await request.app[CLIENTS].ingest.ListFolder(listing, **call_options(request))
    return list(listed.items)


def _folder(body: FolderIngestRequest) -> storage_pb2.SourceRef:
    return folder_source(
        validate(S3FolderSource, body.source_s3, prefix="sourceS3") if body.source_s3 is not None else None,
        validate(GoogleDriveFolderSource, body.source_google_drive, prefix="sourceGoogleDrive")
        if body.source_google_drive is not None
        else None,
    )


@routes.post("/ondemand/ingest/folder")
@requires("jobs:create")
async def ingest_folder(request: web.Request) -> web.Response:
    raw = await read_raw(request)
    body = validate(FolderIngestRequest, raw)
    body.check_supported()
    output = _output(body)
    items = await _sources(request, body)
    clients = request.app[CLIENTS]
    options, metadata = options_of(body), metadata_json(body)
    prefix = body.external_id_prefix
    answer = await clients.jobs.CreateJobs(
        jobs_pb2.CreateJobsRequest(
            jobs=[
                jobs_pb2.CreateJobRequest(
                    options=options,
                    source=item.source,
                    destination_ref=output,
                    external_id=f"{prefix}:{item.filename}"[:255] if prefix else "",
                    metadata_json=metadata,
                    priority=body.priority,
                    mode=jobs_pb2.JOB_MODE_ON_DEMAND,
                    original_filename=item.filename,
                )
                for item in items
            ],
            idempotency=idempotency_of(request, "ondemand.ingest.folder", raw),
        ),
        **call_options(request),
    )
    jobs: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for result in answer.results:
        name = items[result.index].filename
        if result.HasField("job"):
            jobs.append({"jobId": result.job.id, "externalId": result.job.external_id or None, "fileName": name})
        else:
            refused.append({"fileName": name, "error": result.error})
    message = f"Queued {len(jobs)} of {len(items)} video files."
    body_out: dict[str, Any] = {"message": message, "jobs": jobs}
    if refused:
        body_out["failed"] = refused
    return web.json_response(body_out)
