"""The Encode API (Convertrilo-compatible), sync and async: every route, plus `wait`, `download` and
`on_demand_encode_and_wait`."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

from vidkiln.client import _account_calls as account
from vidkiln.client import _encode_calls as jobs
from vidkiln.client._download import CHUNK, DownloadResult, Progress, adownload, download
from vidkiln.client._endpoints import aio, sync
from vidkiln.client._http import AsyncTransport, SyncTransport
from vidkiln.client._wait import Poll, ended
from vidkiln.client.models import JobStatus, OnDemandStatus

StatusCallback = Callable[[OnDemandStatus], None]


def _url(source: str | OnDemandStatus | JobStatus) -> str:
    url = source if isinstance(source, str) else source.download_url
    if not url:
        raise ValueError("the job has no download link (it has not succeeded, or its output expired)")
    return url


class EncodeAPI:
    """The Encode API on a sync transport (`client.encode`)."""

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    login = sync(account.login)
    refresh = sync(account.refresh)
    logout = sync(account.logout)
    health = sync(account.health)
    get_balance = sync(account.get_balance)
    reserve_tokens = sync(account.reserve_tokens)
    release_tokens = sync(account.release_tokens)
    deduct_tokens = sync(account.deduct_tokens)
    on_demand_encode = sync(jobs.on_demand_encode)
    on_demand_ingest_folder = sync(jobs.on_demand_ingest_folder)
    on_demand_status = sync(jobs.on_demand_status)
    on_demand_cancel = sync(jobs.on_demand_cancel)
    create_job = sync(jobs.create_job)
    upload_source = sync(jobs.upload_source)
    job_status = sync(jobs.job_status)
    probe_duration = sync(jobs.probe_duration)
    approve_unified = sync(jobs.approve_unified)
    confirm_job = sync(jobs.confirm_job)
    cancel_job = sync(jobs.cancel_job)
    delete_job_files = sync(jobs.delete_job_files)
    create_jobs_bulk = sync(jobs.create_jobs_bulk)
    bulk_status = sync(jobs.bulk_status)
    bulk_confirm = sync(jobs.bulk_confirm)
    init_stream = sync(jobs.init_stream)
    upload_chunk = sync(jobs.upload_chunk)
    finalize_stream = sync(jobs.finalize_stream)
    abort_stream = sync(jobs.abort_stream)
    get_api_keys = sync(account.get_api_keys)
    create_api_key = sync(account.create_api_key)
    get_api_key = sync(account.get_api_key)
    revoke_api_key = sync(account.revoke_api_key)
    get_webhooks = sync(account.get_webhooks)
    create_webhook = sync(account.create_webhook)
    update_webhook = sync(account.update_webhook)
    delete_webhook = sync(account.delete_webhook)
    test_webhook = sync(account.test_webhook)
    get_webhook_deliveries = sync(account.get_webhook_deliveries)
    redeliver_webhook = sync(account.redeliver_webhook)
    get_events = sync(account.get_events)
    get_google_drive_credentials = sync(account.get_google_drive_credentials)
    create_google_drive_credential = sync(account.create_google_drive_credential)
    delete_google_drive_credential = sync(account.delete_google_drive_credential)

    def wait(
        self,
        job_id: str,
        *,
        interval: float = 1.0,
        timeout: float = 1800.0,
        on_progress: StatusCallback | None = None,
        raise_on_failure: bool = True,
    ) -> OnDemandStatus:
        """Polls GET /ondemand/status until the job is terminal (`on_progress` hears every change);
        JobFailedError when it ends failed or canceled (unless `raise_on_failure=False`)."""
        poll: Poll[OnDemandStatus] = Poll(job_id, interval, timeout, on_progress)
        while True:
            status = self.on_demand_status(job_id)
            poll.seen(status)
            if status.terminal:
                return ended(status, raise_on_failure=raise_on_failure)
            time.sleep(poll.delay(status))

    def on_demand_encode_and_wait(
        self, source_url: str, *, on_progress: StatusCallback | None = None, timeout: float = 1800.0, **fields: Any
    ) -> OnDemandStatus:
        """Submits an on-demand encode and waits for it (with an Idempotency-Key, unlike the Convertrilo SDK)."""
        job = self.on_demand_encode(source_url=source_url, **fields)
        return self.wait(job.job_id, on_progress=on_progress, timeout=timeout)

    def download(
        self,
        source: str | OnDemandStatus | JobStatus,
        dest: str | os.PathLike[str],
        *,
        resume: bool = True,
        on_progress: Progress | None = None,
        chunk_size: int = CHUNK,
    ) -> DownloadResult:
        """Streams a job's output (or any download link) to `dest`, resuming a partial `<dest>.part`."""
        return download(
            self._transport, _url(source), dest, resume=resume, on_progress=on_progress, chunk_size=chunk_size
        )


class AsyncEncodeAPI:
    """The Encode API on an async transport (`async_client.encode`): the same methods, as coroutines."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    login = aio(account.login)
    refresh = aio(account.refresh)
    logout = aio(account.logout)
    health = aio(account.health)
    get_balance = aio(account.get_balance)
    reserve_tokens = aio(account.reserve_tokens)
    release_tokens = aio(account.release_tokens)
    deduct_tokens = aio(account.deduct_tokens)
    on_demand_encode = aio(jobs.on_demand_encode)
    on_demand_ingest_folder = aio(jobs.on_demand_ingest_folder)
    on_demand_status = aio(jobs.on_demand_status)
    on_demand_cancel = aio(jobs.on_demand_cancel)
    create_job = aio(jobs.create_job)
    upload_source = aio(jobs.upload_source)
    job_status = aio(jobs.job_status)
    probe_duration = aio(jobs.probe_duration)
    approve_unified = aio(jobs.approve_unified)
    confirm_job = aio(jobs.confirm_job)
    cancel_job = aio(jobs.cancel_job)
    delete_job_files = aio(jobs.delete_job_files)
    create_jobs_bulk = aio(jobs.create_jobs_bulk)
    bulk_status = aio(jobs.bulk_status)
    bulk_confirm = aio(jobs.bulk_confirm)
    init_stream = aio(jobs.init_stream)
    upload_chunk = aio(jobs.upload_chunk)
    finalize_stream = aio(jobs.finalize_stream)
    abort_stream = aio(jobs.abort_stream)
    get_api_keys = aio(account.get_api_keys)
    create_api_key = aio(account.create_api_key)
    get_api_key = aio(account.get_api_key)
    revoke_api_key = aio(account.revoke_api_key)
    get_webhooks = aio(account.get_webhooks)
    create_webhook = aio(account.create_webhook)
    update_webhook = aio(account.update_webhook)
    delete_webhook = aio(account.delete_webhook)
    test_webhook = aio(account.test_webhook)
    get_webhook_deliveries = aio(account.get_webhook_deliveries)
    redeliver_webhook = aio(account.redeliver_webhook)
    get_events = aio(account.get_events)
    get_google_drive_credentials = aio(account.get_google_drive_credentials)
    create_google_drive_credential = aio(account.create_google_drive_credential)
    delete_google_drive_credential = aio(account.delete_google_drive_credential)

    async def wait(
        self,
        job_id: str,
        *,
        interval: float = 1.0,
        timeout: float = 1800.0,
        on_progress: StatusCallback | None = None,
        raise_on_failure: bool = True,
    ) -> OnDemandStatus:
        """Polls GET /ondemand/status until the job is terminal (see `EncodeAPI.wait`)."""
        poll: Poll[OnDemandStatus] = Poll(job_id, interval, timeout, on_progress)
        while True:
            status = await self.on_demand_status(job_id)
            poll.seen(status)
            if status.terminal:
                return ended(status, raise_on_failure=raise_on_failure)
            await asyncio.sleep(poll.delay(status))

    async def on_demand_encode_and_wait(
        self, source_url: str, *, on_progress: StatusCallback | None = None, timeout: float = 1800.0, **fields: Any
    ) -> OnDemandStatus:
        """Submits an on-demand encode and waits for it."""
        job = await self.on_demand_encode(source_url=source_url, **fields)
        return await self.wait(job.job_id, on_progress=on_progress, timeout=timeout)

    async def download(
        self,
        source: str | OnDemandStatus | JobStatus,
        dest: str | os.PathLike[str],
        *,
        resume: bool = True,
        on_progress: Progress | None = None,
        chunk_size: int = CHUNK,
    ) -> DownloadResult:
        """Streams a job's output (or any download link) to `dest`, resuming a partial `<dest>.part`."""
        return await adownload(
            self._transport, _url(source), dest, resume=resume, on_progress=on_progress, chunk_size=chunk_size
        )
