"""Folder ingest's `sourceGoogleDriveFiles`: files picked one by one in a customer's Drive, each a job.

Translated into references for ingest, which treats the selection like a folder's listing
(services/ingest/refs.py selected_files): only videos are queued, `maxFiles` keeps the first ones
in the order given, none is 404 no_video_files_found, and the first file is opened before any job
is queued.
"""

from __future__ import annotations

from typing import Any

from gateway.destinations import GoogleDriveSelectedFile, drive_access
from gateway.schemas import validate
from protos.common.v1 import storage_pb2

FIELD = "sourceGoogleDriveFiles"


def selected_files(raw: list[dict[str, Any]]) -> list[storage_pb2.SourceRef]:
    refs = []
    for i, item in enumerate(raw):
        picked = validate(GoogleDriveSelectedFile, item, prefix=f"{FIELD}[{i}]")
        location = storage_pb2.DriveLocation(
            file_id=picked.file_id, listed_name=picked.file_name, listed_type=picked.mime_type or ""
        )
        refs.append(storage_pb2.SourceRef(google_drive=location, drive_access=drive_access(picked, f"{FIELD}[{i}]")))
    return refs
