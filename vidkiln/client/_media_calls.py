"""The Media API's routes (/api/v1) as `Call` builders, by resource: files, jobs, videos, webhooks, auth, system.

Answers in the `{"success": true, "data": ...}` envelope are unwrapped; the auth routes answer bare objects.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from vidkiln.client._encode_calls import one, path_id
from vidkiln.client._http import BodyFactory, Call
from vidkiln.client.models import (
    AuthCheck,
    AuthHealth,
    AuthStatus,
    BatchUpload,
    CleanupResult,
    FileAnalytics,
    FileDeleted,
    FileMetadata,
    FilePage,
    FileStats,
    Health,
    JobDeleted,
    JobLogs,
    JobPage,
    MediaFile,
    MediaJob,
    MediaWebhook,
    Permissions,
    SignedUrl,
    UserProfile,
)

V1 = "/api/v1"
Upload = str | os.PathLike[str] | tuple[str, bytes]  # a path, or (file name, content)


def _bytes(data: Any) -> bytes:
    return bytes(data)


def _none(_data: Any) -> None:
    return None


def _query(**values: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items() if v is not None}


def _form(field: str, uploads: Sequence[Upload], fields: dict[str, Any]) -> BodyFactory:
    """A multipart body: each file streamed from disk (opened anew for each attempt), and the text fields."""

    def make(stack: ExitStack, _is_async: bool) -> dict[str, Any]:
        parts: list[tuple[str, tuple[str, Any, str]]] = []
        for upload in uploads:
            if isinstance(upload, tuple):
                name, content = upload
                parts.append((field, (name, content, mimetypes.guess_type(name)[0] or "application/octet-stream")))
                continue
            path = Path(upload)
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            parts.append((field, (path.name, stack.enter_context(open(path, "rb")), kind)))
        return {"files": parts, "data": {k: str(v) for k, v in fields.items() if v is not None}}

    return make


def files_upload(
    file: Upload, *, file_type: str | None = None, subdirectory: str | None = None, description: str | None = None
) -> Call[MediaFile]:
    """POST /files/upload: one file (a path, or (name, bytes)); its `id` can be an encode's `source_file_id`."""
    body = _form("file", [file], {"file_type": file_type, "subdirectory": subdirectory, "description": description})
    return Call("POST", f"{V1}/files/upload", one(MediaFile), body=body, envelope=True)


def files_batch_upload(
    files: Sequence[Upload],
    *,
    file_type: str | None = None,
    subdirectory: str | None = None,
    description: str | None = None,
) -> Call[BatchUpload]:
    """POST /files/batch-upload: up to 20 files, all or nothing."""
    body = _form("files", files, {"file_type": file_type, "subdirectory": subdirectory, "description": description})
    return Call("POST", f"{V1}/files/batch-upload", one(BatchUpload), body=body, envelope=True)


def files_list(file_type: str | None = None, page: int = 1, items_per_page: int = 20) -> Call[FilePage]:
    """GET /files: a page of the account's files (filter `file_type`)."""
    params = _query(file_type=file_type, page=page, items_per_page=items_per_page)
    return Call("GET", f"{V1}/files", one(FilePage), params=params, envelope=True)


def files_get(file_id: str) -> Call[MediaFile]:
    """GET /files/{id}."""
    return Call("GET", f"{V1}/files/{path_id(file_id)}", one(MediaFile), envelope=True)


def files_metadata(file_id: str) -> Call[FileMetadata]:
    """GET /files/{id}/metadata: the checksum, and a probe of video and audio or an image's size."""
    return Call("GET", f"{V1}/files/{path_id(file_id)}/metadata", one(FileMetadata), envelope=True)


def files_thumbnail(file_id: str, size: str = "medium") -> Call[bytes]:
    """GET /files/{id}/thumbnail?size=small|medium|large: a JPEG."""
    return Call("GET", f"{V1}/files/{path_id(file_id)}/thumbnail", _bytes, params={"size": size}, raw=True)


def files_analytics(file_id: str) -> Call[FileAnalytics]:
    """GET /files/{id}/analytics: download, stream and signed-link counts."""
    return Call("GET", f"{V1}/files/{path_id(file_id)}/analytics", one(FileAnalytics), envelope=True)


def files_signed_url(file_id: str, expires_in: int = 3600) -> Call[SignedUrl]:
    """POST /files/{id}/signed-url: a link that needs no credentials for `expires_in` seconds (1 s - 7 days)."""
    path = f"{V1}/files/{path_id(file_id)}/signed-url"
    return Call("POST", path, one(SignedUrl), json={"expires_in": expires_in}, envelope=True, retry_safe=True)


def files_stats() -> Call[FileStats]:
    """GET /files/stats: counts and bytes by type, and what deduplication saved."""
    return Call("GET", f"{V1}/files/stats", one(FileStats), envelope=True)


def files_cleanup(
    *, older_than_days: int | None = None, file_type: str | None = None, dry_run: bool = False
) -> Call[CleanupResult]:
    """POST /files/cleanup: deletes the account's files older than N days and/or of a type (`dry_run`: lists)."""
    body = _query(older_than_days=older_than_days, file_type=file_type, dry_run=dry_run)
    return Call("POST", f"{V1}/files/cleanup", one(CleanupResult), json=body, envelope=True, retry_safe=True)


def files_delete(file_id: str) -> Call[FileDeleted]:
    """DELETE /files/{id}."""
    return Call("DELETE", f"{V1}/files/{path_id(file_id)}", one(FileDeleted), envelope=True)


def jobs_list(
    *,
    page: int = 1,
    items_per_page: int = 20,
    status: str | None = None,
    created_after: datetime | str | None = None,
    created_before: datetime | str | None = None,
    external_id: str | None = None,
    cursor: str | None = None,
) -> Call[JobPage]:
    """GET /jobs: a page of jobs (`pagination.next_cursor` as `cursor` pages deep at constant cost)."""
    params = _query(
        page=page,
        items_per_page=items_per_page,
        status=status,
        created_after=created_after,
        created_before=created_before,
        external_id=external_id,
        cursor=cursor,
    )
    return Call("GET", f"{V1}/jobs", one(JobPage), params=params, envelope=True)


def jobs_get(job_id: str) -> Call[MediaJob]:
    """GET /jobs/{id}: status (pending, processing, completed, failed, cancelled), progress and result."""
    return Call("GET", f"{V1}/jobs/{path_id(job_id)}", one(MediaJob), envelope=True)


def jobs_logs(job_id: str, *, limit: int = 100, offset: int = 0, level: str | None = None) -> Call[JobLogs]:
    """GET /jobs/{id}/logs: what every service wrote about the job."""
    params = _query(limit=limit, offset=offset, level=level)
    return Call("GET", f"{V1}/jobs/{path_id(job_id)}/logs", one(JobLogs), params=params, envelope=True)


def jobs_cancel(job_id: str) -> Call[MediaJob]:
    """POST /jobs/{id}/cancel."""
    return Call("POST", f"{V1}/jobs/{path_id(job_id)}/cancel", one(MediaJob), envelope=True, retry_safe=True)


def jobs_delete(job_id: str) -> Call[JobDeleted]:
    """DELETE /jobs/{id}: a finished job's files, and the job out of every list (409 while it runs)."""
    return Call("DELETE", f"{V1}/jobs/{path_id(job_id)}", one(JobDeleted), envelope=True)


def videos_thumbnail(job_id: str, size: str = "medium") -> Call[bytes]:
    """GET /videos/{id}/thumbnail?size=small|medium|large: the poster frame, a JPEG."""
    return Call("GET", f"{V1}/videos/{path_id(job_id)}/thumbnail", _bytes, params={"size": size}, raw=True)


def webhooks_list() -> Call[list[MediaWebhook]]:
    """GET /webhooks."""
    return Call("GET", f"{V1}/webhooks", lambda data: [MediaWebhook.model_validate(w) for w in data], envelope=True)


def webhooks_create(url: str, events: Sequence[str], secret: str | None = None) -> Call[MediaWebhook]:
    """POST /webhooks: signed with your `secret` (X-T2M-Signature), or one vidkiln makes and shows once."""
    body = _query(url=url, events=list(events), secret=secret)
    return Call("POST", f"{V1}/webhooks", one(MediaWebhook), json=body, envelope=True)


def webhooks_delete(webhook_id: str) -> Call[None]:
    """DELETE /webhooks/{id}."""
    return Call("DELETE", f"{V1}/webhooks/{path_id(webhook_id)}", _none, envelope=True)


def auth_health() -> Call[AuthHealth]:
    """GET /auth/health (no credentials; an unhealthy answer is returned, not raised)."""
    return Call("GET", f"{V1}/auth/health", one(AuthHealth), accept=frozenset({503}))


def auth_status() -> Call[AuthStatus]:
    """GET /auth/status: whether the credentials are valid, and whose they are."""
    return Call("GET", f"{V1}/auth/status", one(AuthStatus))


def auth_me() -> Call[UserProfile]:
    """GET /auth/me."""
    return Call("GET", f"{V1}/auth/me", one(UserProfile))


def auth_permissions() -> Call[Permissions]:
    """GET /auth/permissions: the caller's role and permissions."""
    return Call("GET", f"{V1}/auth/permissions", one(Permissions))


def auth_test_protected() -> Call[AuthCheck]:
    """GET /auth/test-protected."""
    return Call("GET", f"{V1}/auth/test-protected", one(AuthCheck))


def auth_test_verified() -> Call[AuthCheck]:
    """GET /auth/test-verified: 403 unless the account's email is verified."""
    return Call("GET", f"{V1}/auth/test-verified", one(AuthCheck))


def auth_verify() -> Call[AuthCheck]:
    """POST /auth/verify: checks the token."""
    return Call("POST", f"{V1}/auth/verify", one(AuthCheck), retry_safe=True)


def system_health() -> Call[Health]:
    """GET /health: the gateway (the reference's /api/v1/system/* routes are not served)."""
    return Call("GET", "/health", one(Health))
