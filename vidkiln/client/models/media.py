"""Typed answers of the Media API (/api/v1): the `data` of its envelope, and the auth routes' own shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vidkiln.client.models._base import MediaModel

MEDIA_TERMINAL = frozenset({"completed", "failed", "cancelled"})


class Pagination(MediaModel):
    page: int
    items_per_page: int
    total_items: int
    total_pages: int
    has_next: bool
    has_previous: bool = False
    next_page: int | None = None
    previous_page: int | None = None
    next_cursor: str | None = None  # vidkiln's: follow it for constant-cost deep paging (jobs only)


class MediaJobResult(MediaModel):
    file_id: str
    file_size: int | None = None
    filename: str | None = None
    content_type: str | None = None
    download_url: str | None = None
    thumbnail_url: str | None = None


class MediaJobError(MediaModel):
    code: str | None = None
    message: str | None = None


class MediaJob(MediaModel):
    """A job as the Media API shows it: pending, processing, completed, failed or cancelled."""

    id: str
    type: str
    status: str
    progress: float = 0.0
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration: float | None = None
    parameters: dict[str, Any] = {}
    result: MediaJobResult | None = None
    error: MediaJobError | None = None

    @property
    def terminal(self) -> bool:
        """completed, failed or cancelled: the job will not change again."""
        return self.status in MEDIA_TERMINAL


class JobPage(MediaModel):
    items: list[MediaJob]
    pagination: Pagination


class LogEntry(MediaModel):
    timestamp: datetime | None = None
    level: str
    message: str
    details: dict[str, Any] | None = None


class JobLogs(MediaModel):
    logs: list[LogEntry]
    total_logs: int
    has_more: bool


class JobDeleted(MediaModel):
    id: str
    deleted: bool
    objects_deleted: int = 0


class MediaFile(MediaModel):
    """An uploaded file; its `id` is an encode source (`source_file_id`)."""

    id: str
    filename: str
    size: int
    content_type: str
    file_type: str
    subdirectory: str | None = None
    description: str | None = None
    checksum: str | None = None
    blob_key: str | None = None
    deduplicated: bool = False
    download_count: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    download_url: str | None = None
    stream_url: str | None = None
    thumbnail_url: str | None = None


class FilePage(MediaModel):
    items: list[MediaFile]
    pagination: Pagination


class BatchUpload(MediaModel):
    files: list[MediaFile]
    total_files: int
    total_size: int


class FileMetadata(MediaModel):
    content_type: str
    size: int
    checksum: str
    sha256: str
    file_type: str
    metadata: dict[str, Any] = {}
    probe_error: str | None = None


class FileAnalytics(MediaModel):
    file_id: str
    download_count: int
    stream_count: int
    signed_url_count: int
    total_accesses: int
    last_accessed_at: datetime | None = None
    created_at: datetime | None = None


class SignedUrl(MediaModel):
    file_id: str
    url: str
    expires_in: int
    expires_at: datetime


class TypeStats(MediaModel):
    count: int
    size: int


class Deduplication(MediaModel):
    logical_bytes: int
    stored_bytes: int
    saved_bytes: int
    deduplicated_files: int


class FileStats(MediaModel):
    total_files: int
    total_size: int
    by_type: dict[str, TypeStats]
    deduplication: Deduplication


class CleanedFile(MediaModel):
    id: str
    filename: str
    size: int


class CleanupResult(MediaModel):
    dry_run: bool
    deleted_count: int
    deleted_bytes: int
    files: list[CleanedFile]
    remaining: int = 0


class FileDeleted(MediaModel):
    id: str
    deleted: bool


class MediaWebhook(MediaModel):
    id: str
    url: str
    events: list[str]
    is_active: bool
    failure_count: int = 0
    last_triggered_at: datetime | None = None
    created_at: datetime | None = None
    secret: str | None = None  # only when vidkiln made it, in create's answer


class AuthHealth(MediaModel):
    status: str
    auth: dict[str, Any] = {}
    message: str | None = None


class AuthStatus(MediaModel):
    authenticated: bool
    user_id: str | None = None
    email: str | None = None
    email_verified: bool | None = None
    message: str | None = None
    request_context: dict[str, Any] = {}


class UserProfile(MediaModel):
    id: str
    username: str
    full_name: str | None = None
    email: str
    image_url: str | None = None
    email_verified: bool
    created_at: datetime | None = None
    last_sign_in_at: datetime | None = None


class Permissions(MediaModel):
    user_id: str
    role: str
    permissions: list[str]
    access_level: str


class AuthCheck(MediaModel):
    """test-protected, test-verified and verify."""

    message: str
    user_id: str
    email: str | None = None
    email_verified: bool | None = None
    verified: bool | None = None
    timestamp: datetime | None = None
