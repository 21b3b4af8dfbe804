"""Folder ingest's `sourceGoogleDriveFiles`: files picked one by one in a customer's Drive, each a job.

The selection is treated like a folder's listing: only videos are queued (videofiles.is_video, by
name and MIME type), `maxFiles` keeps the first ones in the order given, none is 404
no_video_files_found. Files that share credentials share one sealed copy; before any job is
queued, ingest opens the first file with them (the credential or token is accepted, the file is
there and readable). The others are looked at when their jobs run.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.clients import CLIENTS, call_options
from gateway.destinations import GoogleDriveSelectedFile, drive_credentials
from gateway.schemas import validate
from protos.common.v1 import storage_pb2
from protos.ingest.v1 import ingest_pb2
from services.common.errors import NotFound, R
from services.common.videofiles import is_video

FIELD = "sourceGoogleDriveFiles"


async def selected_files(
    request: web.Request, raw: list[dict[str, Any]], max_files: int
) -> list[ingest_pb2.FolderItem]:
    picked = [validate(GoogleDriveSelectedFile, item, prefix=f"{FIELD}[{i}]") for i, item in enumerate(raw)]
    videos = [f for f in picked if is_video(f.file_name, f.mime_type or "")]
    if max_files:
        videos = videos[:max_files]
    if not videos:
        raise NotFound("None of the selected files is a video.", reason=R.NO_VIDEO_FILES_FOUND)
    sealed: dict[tuple[str, str, str], str] = {}
    items = []
    for i, f in enumerate(videos):
        access = (str(f.credential_id or ""), f.access_token or "", f.refresh_token or "")
        if access not in sealed:
            sealed[access] = await drive_credentials(request, f, f"{FIELD}[{i}]")
        location = storage_pb2.DriveLocation(file_id=f.file_id, credentials=sealed[access])
        if i:  # named by the caller; looked at when the job runs
            location.listed_name = f.file_name
        items.append(ingest_pb2.FolderItem(source=storage_pb2.Source(google_drive=location), filename=f.file_name))
    first = items[0].source
    await request.app[CLIENTS].ingest.ValidateSource(
        ingest_pb2.ValidateSourceRequest(source=first), **call_options(request)
    )
    first.google_drive.listed_name = videos[0].file_name  # checked: the job need not look again
    return items
