"""The Media API's files: /api/v1/files*, JSON -> one FileService RPC (ingest) -> JSON, or the bytes.

Uploads stream to the blob store (gateway/files.py) before the one RPC that records them. Every
route that takes an id answers 404 alike for a missing id and another account's file.

An uploaded file can be the source of an encode job: its `blob_key` (`files/sha256/<digest>`) is a
`Source.blob_key` for jobs.CreateJob; ingest's ValidateSource accepts it from the file's own account
only, and probes it like any upload.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from gateway.auth import CALLER, public, requires
from gateway.clients import CLIENTS, call_options
from gateway.downloads import serve_blob
from gateway.files import (
    TYPE_NAMES,
    TYPES,
    FileTypeName,
    check_signed,
    choice,
    counts_as_access,
    file_view,
    int_param,
    invalid,
    register,
    serve_file,
    signed_url,
)
from gateway.routes.media_api import ok
from gateway.schemas import read_json
from gateway.uploads import TOKENS
from gateway.views import iso
from protos.common.v1 import media_pb2
from protos.ingest.v1 import files_pb2
from services.common.identity import Principal, bearer_metadata

routes = web.RouteTableDef()
QUALITIES = ("auto", "original", "240p", "360p", "480p", "720p", "1080p", "1440p", "2160p")
MAX_BATCH = 20


@routes.post("/api/v1/files/upload")
@requires("jobs:create")
async def upload(request: web.Request) -> web.Response:
    [uploaded] = await register(request, "file", 1)
    return ok(file_view(uploaded), "File uploaded")


@routes.post("/api/v1/files/batch-upload")
@requires("jobs:create")
async def batch_upload(request: web.Request) -> web.Response:
    uploaded = await register(request, "files", MAX_BATCH)
    items = [file_view(f) for f in uploaded]
    return ok({"files": items, "total_files": len(items), "total_size": sum(f.size_bytes for f in uploaded)})


@routes.get("/api/v1/files")
@requires("jobs:read")
async def list_files(request: web.Request) -> web.Response:
    kind = choice(request, "file_type", tuple(TYPES), None)
    page = int_param(request, "page", 1, 1, 1_000_000)
    per_page = int_param(request, "items_per_page", 20, 1, 100)
    answer = await request.app[CLIENTS].files.ListFiles(
        files_pb2.ListFilesRequest(
            file_type=TYPES.get(kind or "", files_pb2.FILE_TYPE_UNSPECIFIED), page=page, page_size=per_page
        ),
        **call_options(request),
    )
    pages = max(1, -(-answer.total // per_page))
    pagination = {
        "page": page,
        "items_per_page": per_page,
        "total_items": answer.total,
        "total_pages": pages,
        "has_next": page < pages,
        "has_previous": page > 1,
        "next_page": page + 1 if page < pages else None,
        "previous_page": page - 1 if page > 1 else None,
    }
    return ok({"items": [file_view(f) for f in answer.files], "pagination": pagination})


@routes.get("/api/v1/files/stats")
@requires("jobs:read")
async def stats(request: web.Request) -> web.Response:
    answer = await request.app[CLIENTS].files.GetFileStats(files_pb2.GetFileStatsRequest(), **call_options(request))
    by_type = {name: {"count": 0, "size": 0} for name in TYPES}
    for row in answer.by_type:
        by_type[TYPE_NAMES.get(row.file_type, "other")] = {"count": row.count, "size": row.bytes}
    saved = answer.logical_bytes - answer.stored_bytes
    return ok(
        {
            "total_files": answer.total_files,
            "total_size": answer.logical_bytes,
            "by_type": by_type,
            "deduplication": {
                "logical_bytes": answer.logical_bytes,
                "stored_bytes": answer.stored_bytes,
                "saved_bytes": saved,
                "deduplicated_files": answer.deduplicated_files,
            },
        }
    )


class CleanupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    older_than_days: int | None = Field(None, ge=0, le=36500)
    file_type: FileTypeName | None = None
    dry_run: bool = False


@routes.post("/api/v1/files/cleanup")
@requires("jobs:cancel")
async def cleanup(request: web.Request) -> web.Response:
    """Deletes the caller's files older than N days and/or of a type (at most 1000 a call)."""
    body = await read_json(request, CleanupRequest, optional=True)
    if body.older_than_days is None and body.file_type is None:
        raise invalid("body", "give older_than_days, file_type or both")
    message = files_pb2.CleanupFilesRequest(
        file_type=TYPES.get(body.file_type or "", files_pb2.FILE_TYPE_UNSPECIFIED), dry_run=body.dry_run
    )
    if body.older_than_days is not None:
        message.created_before.FromDatetime(datetime.now(UTC) - timedelta(days=body.older_than_days))
    answer = await request.app[CLIENTS].files.CleanupFiles(message, **call_options(request))
    removed = [{"id": f.id, "filename": f.filename, "size": f.size_bytes} for f in answer.files]
    verb = "would be deleted" if body.dry_run else "deleted"
    return ok(
        {
            "dry_run": body.dry_run,
            "deleted_count": len(removed),
            "deleted_bytes": answer.bytes,
            "files": removed,
            "remaining": answer.remaining,
        },
        f"{len(removed)} files {verb}",
    )


@routes.get("/api/v1/files/secure/{file_id}")
@public
async def secure(request: web.Request) -> web.StreamResponse:
    """A signed link: no credentials, the signature vouches for the account until it expires."""
    file_id = request.match_info["file_id"]
    account = check_signed(request, file_id)
    token, _ = request.app[TOKENS].issue(Principal(account_id=account, scopes=frozenset({"jobs:read"})))
    clients = request.app[CLIENTS]
    options: dict[str, Any] = {"timeout": clients.timeout, "metadata": bearer_metadata(token)}
    if counts_as_access(request):
        found = await clients.files.RecordAccess(
            files_pb2.RecordAccessRequest(file_id=file_id, kind=files_pb2.ACCESS_KIND_SIGNED), **options
        )
    else:
        found = await clients.files.GetFile(files_pb2.GetFileRequest(file_id=file_id), **options)
    return await serve_file(request, found, inline=request.query.get("inline", "false").lower() == "true")


@routes.get("/api/v1/files/{file_id}")
@requires("jobs:read")
async def details(request: web.Request) -> web.Response:
    found = await request.app[CLIENTS].files.GetFile(
        files_pb2.GetFileRequest(file_id=request.match_info["file_id"]), **call_options(request)
    )
    return ok(file_view(found))


def media_view(p: media_pb2.MediaProbe, kind: str) -> dict[str, Any]:
    if kind == "image":
        return {"width": p.width or None, "height": p.height or None, "format": p.video_codec or p.container}
    return {
        "duration": round(p.duration_sec, 3) if p.duration_sec else None,
        "container": p.container or None,
        "bit_rate": p.bit_rate or None,
        "has_video": p.has_video,
        "video_codec": p.video_codec or None,
        "width": p.width or None,
        "height": p.height or None,
        "fps": round(p.fps, 3) if p.fps else None,
        "pix_fmt": p.pix_fmt or None,
        "audio_streams": p.audio_streams,
        "audio_codec": p.audio_codec or None,
        "audio_channels": p.audio_channels or None,
        "audio_sample_rate": p.audio_sample_rate or None,
    }


@routes.get("/api/v1/files/{file_id}/metadata")
@requires("jobs:read")
async def metadata(request: web.Request) -> web.Response:
    """The checksum, and what the content holds: a probe of video and audio, an image's size."""
    answer = await request.app[CLIENTS].files.DescribeFile(
        files_pb2.GetFileRequest(file_id=request.match_info["file_id"]), **call_options(request)
    )
    f, kind = answer.file, TYPE_NAMES.get(answer.file.file_type, "other")
    return ok(
        {
            "content_type": f.content_type,
            "size": f.size_bytes,
            "checksum": f"sha256:{f.sha256}",
            "sha256": f.sha256,
            "file_type": kind,
            "metadata": media_view(answer.probe, kind) if answer.HasField("probe") else {},
            "probe_error": answer.probe_error or None,
        }
    )


async def _accessed(request: web.Request, kind: files_pb2.AccessKind.ValueType) -> files_pb2.File:
    """The file, its access counted when this request reads it from the start (a HEAD does not)."""
    file_id, files = request.match_info["file_id"], request.app[CLIENTS].files
    if counts_as_access(request):
        return await files.RecordAccess(
            files_pb2.RecordAccessRequest(file_id=file_id, kind=kind), **call_options(request)
        )
    return await files.GetFile(files_pb2.GetFileRequest(file_id=file_id), **call_options(request))


@routes.get("/api/v1/files/{file_id}/download")
@requires("jobs:read")
async def download(request: web.Request) -> web.StreamResponse:
    """The bytes (Range, ETag, If-None-Match), as an attachment with the original name or `inline=true`."""
    inline = choice(request, "inline", ("true", "false"), "false") == "true"
    return await serve_file(request, await _accessed(request, files_pb2.ACCESS_KIND_DOWNLOAD), inline=inline)


@routes.get("/api/v1/files/{file_id}/stream")
@requires("jobs:read")
async def stream(request: web.Request) -> web.StreamResponse:
    """Inline with Range for players; `quality` picks a rendition when there is one (today: the original)."""
    choice(request, "quality", QUALITIES, "auto")
    response = await serve_file(request, await _accessed(request, files_pb2.ACCESS_KIND_STREAM), inline=True)
    response.headers["X-Rendition"] = "original"
    return response


@routes.get("/api/v1/files/{file_id}/thumbnail")
@requires("jobs:read")
async def thumbnail(request: web.Request) -> web.StreamResponse:
    """A video's poster frame or a scaled image, made on the first request and kept."""
    size = choice(request, "size", ("small", "medium", "large"), "medium") or "medium"
    found = await request.app[CLIENTS].files.GetThumbnail(
        files_pb2.GetThumbnailRequest(file_id=request.match_info["file_id"], size=size), **call_options(request)
    )
    return await serve_blob(
        request, found.blob_key, name=f"thumbnail-{size}.jpg", content_type="image/jpeg", inline=True
    )


@routes.get("/api/v1/files/{file_id}/analytics")
@requires("jobs:read")
async def analytics(request: web.Request) -> web.Response:
    f = await request.app[CLIENTS].files.GetFile(
        files_pb2.GetFileRequest(file_id=request.match_info["file_id"]), **call_options(request)
    )
    return ok(
        {
            "file_id": f.id,
            "download_count": f.download_count,
            "stream_count": f.stream_count,
            "signed_url_count": f.signed_count,
            "total_accesses": f.download_count + f.stream_count + f.signed_count,
            "last_accessed_at": iso(f.last_accessed_at, f.HasField("last_accessed_at")),
            "created_at": iso(f.created_at, f.HasField("created_at")),
        }
    )


class SignedUrlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    expires_in: int = Field(3600, ge=1, le=7 * 86400)  # seconds


@routes.post("/api/v1/files/{file_id}/signed-url")
@requires("jobs:read")
async def create_signed_url(request: web.Request) -> web.Response:
    """A link to the file that needs no credentials until it expires (at most 7 days)."""
    body = await read_json(request, SignedUrlRequest, optional=True)
    found = await request.app[CLIENTS].files.GetFile(
        files_pb2.GetFileRequest(file_id=request.match_info["file_id"]), **call_options(request)
    )
    expires = math.ceil(datetime.now(UTC).timestamp()) + body.expires_in
    expires_at = datetime.fromtimestamp(expires, UTC)
    url = signed_url(request, found.id, request[CALLER].principal.account_id, expires_at)
    return ok({"file_id": found.id, "url": url, "expires_in": body.expires_in, "expires_at": iso_of(expires_at)})


def iso_of(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@routes.delete("/api/v1/files/{file_id}")
@requires("jobs:cancel")
async def delete(request: web.Request) -> web.Response:
    """Deletes the record; the bytes go once no other upload has the same content."""
    answer = await request.app[CLIENTS].files.DeleteFile(
        files_pb2.DeleteFileRequest(file_id=request.match_info["file_id"]), **call_options(request)
    )
    return ok({"id": answer.file.id, "deleted": True}, "File deleted")
