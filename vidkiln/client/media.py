"""The Media API (/api/v1), sync and async, by resource: `files`, `jobs`, `videos`, `webhooks`, `auth`, `system`."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from urllib.parse import quote

from vidkiln.client import _media_calls as calls
from vidkiln.client._download import CHUNK, DownloadResult, Progress, adownload, download
from vidkiln.client._endpoints import aio, sync
from vidkiln.client._http import AsyncTransport, SyncTransport
from vidkiln.client._wait import Poll, ended
from vidkiln.client.models import MediaJob

JobCallback = Callable[[MediaJob], None]
Path = str | os.PathLike[str]


def _file_url(file_id: str, inline: bool) -> str:
    return f"{calls.V1}/files/{quote(file_id, safe='')}/download" + ("?inline=true" if inline else "")


def _stream_url(file_id: str, quality: str) -> str:
    return f"{calls.V1}/files/{quote(file_id, safe='')}/stream?quality={quote(quality, safe='')}"


def _video_url(job_id: str) -> str:
    return f"{calls.V1}/videos/{quote(job_id, safe='')}/download"


class _Sync:
    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport


class _Async:
    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport


class Files(_Sync):
    """/api/v1/files: uploads, listing, details, bytes, signed links, stats, cleanup."""

    upload = sync(calls.files_upload)
    batch_upload = sync(calls.files_batch_upload)
    list = sync(calls.files_list)
    get = sync(calls.files_get)
    metadata = sync(calls.files_metadata)
    thumbnail = sync(calls.files_thumbnail)
    analytics = sync(calls.files_analytics)
    signed_url = sync(calls.files_signed_url)
    stats = sync(calls.files_stats)
    cleanup = sync(calls.files_cleanup)
    delete = sync(calls.files_delete)

    def download(
        self,
        file_id: str,
        dest: Path,
        *,
        inline: bool = False,
        resume: bool = True,
        on_progress: Progress | None = None,
        chunk_size: int = CHUNK,
    ) -> DownloadResult:
        """GET /files/{id}/download streamed to `dest`, resuming a partial `<dest>.part`."""
        url = self._transport.config.url(_file_url(file_id, inline))
        return download(self._transport, url, dest, resume=resume, on_progress=on_progress, chunk_size=chunk_size)

    def stream(
        self,
        file_id: str,
        dest: Path,
        *,
        quality: str = "auto",
        resume: bool = True,
        on_progress: Progress | None = None,
        chunk_size: int = CHUNK,
    ) -> DownloadResult:
        """GET /files/{id}/stream (inline, the player's route) streamed to `dest`, resumable."""
        url = self._transport.config.url(_stream_url(file_id, quality))
        return download(self._transport, url, dest, resume=resume, on_progress=on_progress, chunk_size=chunk_size)


class Jobs(_Sync):
    """/api/v1/jobs: list, details, logs, cancel, delete, and `wait`."""

    list = sync(calls.jobs_list)
    get = sync(calls.jobs_get)
    logs = sync(calls.jobs_logs)
    cancel = sync(calls.jobs_cancel)
    delete = sync(calls.jobs_delete)

    def wait(
        self,
        job_id: str,
        *,
        interval: float = 1.0,
        timeout: float = 1800.0,
        on_progress: JobCallback | None = None,
        raise_on_failure: bool = True,
    ) -> MediaJob:
        """Polls GET /jobs/{id} until completed, failed or cancelled (`on_progress` hears every change)."""
        poll: Poll[MediaJob] = Poll(job_id, interval, timeout, on_progress)
        while True:
            job = self.get(job_id)
            poll.seen(job)
            if job.terminal:
                return ended(job, raise_on_failure=raise_on_failure)
            time.sleep(poll.delay(job))


class Videos(_Sync):
    """/api/v1/videos: an encoded job's video and poster frames."""

    thumbnail = sync(calls.videos_thumbnail)

    def download(
        self,
        job_id: str,
        dest: Path,
        *,
        resume: bool = True,
        on_progress: Progress | None = None,
        chunk_size: int = CHUNK,
    ) -> DownloadResult:
        """GET /videos/{id}/download streamed to `dest`, resuming a partial `<dest>.part`."""
        url = self._transport.config.url(_video_url(job_id))
        return download(self._transport, url, dest, resume=resume, on_progress=on_progress, chunk_size=chunk_size)


class Webhooks(_Sync):
    """/api/v1/webhooks."""

    list = sync(calls.webhooks_list)
    create = sync(calls.webhooks_create)
    delete = sync(calls.webhooks_delete)


class Auth(_Sync):
    """/api/v1/auth/*."""

    health = sync(calls.auth_health)
    status = sync(calls.auth_status)
    me = sync(calls.auth_me)
    permissions = sync(calls.auth_permissions)
    test_protected = sync(calls.auth_test_protected)
    test_verified = sync(calls.auth_test_verified)
    verify = sync(calls.auth_verify)


class System(_Sync):
    """The platform's health."""

    health = sync(calls.system_health)


class MediaAPI:
    """The Media API on a sync transport (`client.media`)."""

    def __init__(self, transport: SyncTransport) -> None:
        self.files, self.jobs, self.videos = Files(transport), Jobs(transport), Videos(transport)
        self.webhooks, self.auth, self.system = Webhooks(transport), Auth(transport), System(transport)


class AsyncFiles(_Async):
    """/api/v1/files, as coroutines."""

    upload = aio(calls.files_upload)
    batch_upload = aio(calls.files_batch_upload)
    list = aio(calls.files_list)
    get = aio(calls.files_get)
    metadata = aio(calls.files_metadata)
    thumbnail = aio(calls.files_thumbnail)
    analytics = aio(calls.files_analytics)
    signed_url = aio(calls.files_signed_url)
    stats = aio(calls.files_stats)
    cleanup = aio(calls.files_cleanup)
    delete = aio(calls.files_delete)

    async def download(
        self,
        file_id: str,
        dest: Path,
        *,
        inline: bool = False,
        resume: bool = True,
        on_progress: Progress | None = None,
        chunk_size: int = CHUNK,
    ) -> DownloadResult:
        """GET /files/{id}/download streamed to `dest`, resuming a partial `<dest>.part`."""
        url = self._transport.config.url(_file_url(file_id, inline))
        return await adownload(
            self._transport, url, dest, resume=resume, on_progress=on_progress, chunk_size=chunk_size
        )

    async def stream(
        self,
        file_id: str,
        dest: Path,
        *,
        quality: str = "auto",
        resume: bool = True,
        on_progress: Progress | None = None,
        chunk_size: int = CHUNK,
    ) -> DownloadResult:
        """GET /files/{id}/stream (inline, the player's route) streamed to `dest`, resumable."""
        url = self._transport.config.url(_stream_url(file_id, quality))
        return await adownload(
            self._transport, url, dest, resume=resume, on_progress=on_progress, chunk_size=chunk_size
        )


class AsyncJobs(_Async):
    """/api/v1/jobs, as coroutines."""

    list = aio(calls.jobs_list)
    get = aio(calls.jobs_get)
    logs = aio(calls.jobs_logs)
    cancel = aio(calls.jobs_cancel)
    delete = aio(calls.jobs_delete)

    async def wait(
        self,
        job_id: str,
        *,
        interval: float = 1.0,
        timeout: float = 1800.0,
        on_progress: JobCallback | None = None,
        raise_on_failure: bool = True,
    ) -> MediaJob:
        """Polls GET /jobs/{id} until completed, failed or cancelled (see `Jobs.wait`)."""
        poll: Poll[MediaJob] = Poll(job_id, interval, timeout, on_progress)
        while True:
            job = await self.get(job_id)
            poll.seen(job)
            if job.terminal:
                return ended(job, raise_on_failure=raise_on_failure)
            await asyncio.sleep(poll.delay(job))


class AsyncVideos(_Async):
    """/api/v1/videos, as coroutines."""

    thumbnail = aio(calls.videos_thumbnail)

    async def download(
        self,
        job_id: str,
        dest: Path,
        *,
        resume: bool = True,
        on_progress: Progress | None = None,
        chunk_size: int = CHUNK,
    ) -> DownloadResult:
        """GET /videos/{id}/download streamed to `dest`, resuming a partial `<dest>.part`."""
        url = self._transport.config.url(_video_url(job_id))
        return await adownload(
            self._transport, url, dest, resume=resume, on_progress=on_progress, chunk_size=chunk_size
        )


class AsyncWebhooks(_Async):
    """/api/v1/webhooks, as coroutines."""

    list = aio(calls.webhooks_list)
    create = aio(calls.webhooks_create)
    delete = aio(calls.webhooks_delete)


class AsyncAuth(_Async):
    """/api/v1/auth/*, as coroutines."""

    health = aio(calls.auth_health)
    status = aio(calls.auth_status)
    me = aio(calls.auth_me)
    permissions = aio(calls.auth_permissions)
    test_protected = aio(calls.auth_test_protected)
    test_verified = aio(calls.auth_test_verified)
    verify = aio(calls.auth_verify)


class AsyncSystem(_Async):
    """The platform's health, as a coroutine."""

    health = aio(calls.system_health)


class AsyncMediaAPI:
    """The Media API on an async transport (`async_client.media`)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self.files, self.jobs, self.videos = AsyncFiles(transport), AsyncJobs(transport), AsyncVideos(transport)
        self.webhooks, self.auth = AsyncWebhooks(transport), AsyncAuth(transport)
        self.system = AsyncSystem(transport)
