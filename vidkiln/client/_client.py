"""`Client` and `AsyncClient`: one connection pool and retry policy under both dialects."""

from __future__ import annotations

import os
from collections.abc import Callable
from types import TracebackType

import httpx

from vidkiln.client._download import CHUNK, DownloadResult, Progress, adownload, download
from vidkiln.client._http import AsyncTransport, Config, RetryEvent, SyncTransport
from vidkiln.client.encode import AsyncEncodeAPI, EncodeAPI
from vidkiln.client.media import AsyncMediaAPI, MediaAPI


def _config(
    base_url: str,
    api_key: str | None,
    access_token: str | None,
    timeout: float,
    max_retries: int,
    max_retry_after: float,
    on_retry: Callable[[RetryEvent], None] | None,
) -> Config:
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
    return Config(
        base_url.rstrip("/"),
        api_key=api_key,
        access_token=access_token,
        timeout=timeout,
        max_retries=max_retries,
        max_retry_after=max_retry_after,
        on_retry=on_retry,
    )


class Client:
    """The platform's REST API: `client.encode` (the Encode API) and `client.media` (the Media API).

    Credentials: an `api_key` (sent as X-API-Key) or a login's `access_token` (Bearer). 429 and 503 answers are
    retried up to `max_retries` times, after `Retry-After` when the server sends one (longer than
    `max_retry_after`: raised at once); every create carries an Idempotency-Key that its retries reuse.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_after: float = 60.0,
        on_retry: Callable[[RetryEvent], None] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        config = _config(base_url, api_key, access_token, timeout, max_retries, max_retry_after, on_retry)
        self._transport = SyncTransport(config, http_client)
        self.encode = EncodeAPI(self._transport)
        self.media = MediaAPI(self._transport)

    def download(
        self,
        url: str,
        dest: str | os.PathLike[str],
        *,
        resume: bool = True,
        on_progress: Progress | None = None,
        chunk_size: int = CHUNK,
    ) -> DownloadResult:
        """Any download link (a job's `download_url`, a file's signed URL) streamed to `dest`, resumable."""
        return download(
            self._transport,
            self._transport.config.url(url),
            dest,
            resume=resume,
            on_progress=on_progress,
            chunk_size=chunk_size,
        )

    def close(self) -> None:
        """Closes the connection pool (not one passed in as `http_client`)."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class AsyncClient:
    """`Client` for asyncio: the same API, every call a coroutine."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_after: float = 60.0,
        on_retry: Callable[[RetryEvent], None] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        config = _config(base_url, api_key, access_token, timeout, max_retries, max_retry_after, on_retry)
        self._transport = AsyncTransport(config, http_client)
        self.encode = AsyncEncodeAPI(self._transport)
        self.media = AsyncMediaAPI(self._transport)

    async def download(
        self,
        url: str,
        dest: str | os.PathLike[str],
        *,
        resume: bool = True,
        on_progress: Progress | None = None,
        chunk_size: int = CHUNK,
    ) -> DownloadResult:
        """Any download link streamed to `dest`, resumable."""
        url = self._transport.config.url(url)
        return await adownload(
            self._transport, url, dest, resume=resume, on_progress=on_progress, chunk_size=chunk_size
        )

    async def aclose(self) -> None:
        """Closes the connection pool (not one passed in as `http_client`)."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()
