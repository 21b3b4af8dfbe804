"""The transport under both clients: one request description (`Call`), retries with backoff on 429 and 503
(honouring `Retry-After`) and on broken connections, an `Idempotency-Key` per create kept across its retries."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from vidkiln.client.errors import APIConnectionError, error_from_response

T = TypeVar("T")
_SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_RETRY_STATUSES = frozenset({429, 503})
# Nothing reached the server: repeating is safe whatever the request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
BodyFactory = Callable[[ExitStack, bool], dict[str, Any]]  # (files to close, async?) -> httpx request kwargs


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request and how to read its answer; `create` gets an Idempotency-Key reused on every retry."""

    method: str
    path: str  # under the base URL, or an absolute URL
    parse: Callable[[Any], T]
    json: Any = None
    params: Mapping[str, Any] | None = None
    body: BodyFactory | None = None  # content, files or data, made anew for each attempt
    headers: Mapping[str, str] = field(default_factory=dict)
    create: bool = False
    idempotency_key: str | None = None
    retry_safe: bool | None = None  # None: by method (and a create with its key is safe)
    envelope: bool = False  # the Media API's {"success": true, "data": ...}: parse gets `data`
    raw: bool = False  # parse gets the body's bytes
    accept: frozenset[int] = frozenset()  # error statuses that still carry an answer to parse (health: 503)


@dataclass(frozen=True)
class RetryEvent:
    """What `on_retry` hears before each retry: the attempt that failed, why, and how long the SDK waits."""

    attempt: int
    delay: float
    method: str
    url: str
    status: int | None
    error: BaseException | None
    idempotency_key: str | None


@dataclass(frozen=True)
class Config:
    """How a client talks to the platform."""

    base_url: str
    api_key: str | None = None
    access_token: str | None = None
    timeout: float = 30.0
    max_retries: int = 3
    backoff: float = 0.5  # first delay without a Retry-After; doubles each attempt, with jitter
    max_backoff: float = 8.0
    max_retry_after: float = 60.0  # a longer Retry-After (an hourly limit) is raised at once, not slept
    on_retry: Callable[[RetryEvent], None] | None = None
    user_agent: str = "vidkiln-python/0.1"

    def url(self, path: str) -> str:
        return path if "://" in path else self.base_url.rstrip("/") + path

    def headers(self, url: str) -> dict[str, str]:
        """The SDK's headers, with the credentials only for the platform's own URLs (never a third party's)."""
        out = {"User-Agent": self.user_agent}
        if url.startswith(self.base_url.rstrip("/") + "/"):
            if self.api_key:
                out["X-API-Key"] = self.api_key
            elif self.access_token:
                out["Authorization"] = f"Bearer {self.access_token}"
        return out


def retry_after(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` in seconds (either form: seconds or an HTTP date), or None."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _safe(call: Call[Any]) -> bool:
    if call.retry_safe is not None:
        return call.retry_safe
    return call.method in _SAFE_METHODS or call.create


@dataclass
class Attempts:
    """The retry policy of one request: how long to wait before the next attempt, or None to give up."""

    config: Config
    safe: bool
    method: str
    url: str
    key: str | None
    attempt: int = 0

    def after(self, status: int | None, headers: Mapping[str, str], error: BaseException | None) -> float | None:
        if self.attempt >= self.config.max_retries:
            return None
        if error is not None and not (self.safe or isinstance(error, _NOT_SENT)):
            return None
        if status is not None and (status not in _RETRY_STATUSES or (status == 503 and not self.safe)):
            return None  # a 429 did nothing (refused before the route ran): safe for any request
        wait = retry_after(headers) if status is not None else None
        if wait is None:
            wait = min(self.config.max_backoff, self.config.backoff * 2**self.attempt) * random.uniform(0.5, 1.0)
        elif wait > self.config.max_retry_after:
            return None
        self.attempt += 1
        if self.config.on_retry is not None:
            self.config.on_retry(RetryEvent(self.attempt, wait, self.method, self.url, status, error, self.key))
        return wait


def prepare(config: Config, call: Call[Any]) -> tuple[str, dict[str, str], Attempts]:
    """The URL, the headers (the Idempotency-Key made once here) and the retry policy of a call."""
    url = config.url(call.path)
    accept = {"Accept": "*/*" if call.raw else "application/json"}
    headers = config.headers(url) | accept | dict(call.headers)
    key = call.idempotency_key or (str(uuid.uuid4()) if call.create else None)
    if key is not None:
        headers["Idempotency-Key"] = key
    return url, headers, Attempts(config, _safe(call), call.method, url, key)


def result(call: Call[T], response: httpx.Response) -> T:
    """The parsed answer, or the dialect's error as an exception."""
    status = response.status_code
    if not (200 <= status < 300 or status in call.accept):
        raise error_from_response(status, response.headers, response.content, retry_after(response.headers))
    if call.raw:
        return call.parse(response.content)
    data = response.json() if status != 204 and response.content else None
    if call.envelope and isinstance(data, dict) and "data" in data:
        data = data["data"]
    return call.parse(data)


def _kwargs(call: Call[Any], headers: dict[str, str], stack: ExitStack, is_async: bool) -> dict[str, Any]:
    """httpx's arguments for one attempt (a body from a factory is made anew, its files closed by `stack`)."""
    kwargs: dict[str, Any] = {"params": call.params, "headers": headers}
    if call.json is not None:
        kwargs["json"] = call.json
    if call.body is not None:
        made = call.body(stack, is_async)
        kwargs |= made | {"headers": headers | made.get("headers", {})}
    return kwargs


class SyncTransport:
    """Runs calls on an `httpx.Client`."""

    def __init__(self, config: Config, http: httpx.Client | None = None) -> None:
        self.config = config
        self._own = http is None
        self.http = http or httpx.Client(timeout=config.timeout)

    def run(self, call: Call[T]) -> T:
        """Sends the call, retrying as its policy allows, and parses the answer."""
        url, headers, attempts = prepare(self.config, call)
        while True:
            try:
                with ExitStack() as stack:
                    response = self.http.request(call.method, url, **_kwargs(call, headers, stack, False))
            except httpx.TransportError as exc:
                if (wait := attempts.after(None, {}, exc)) is None:
                    raise APIConnectionError(f"{call.method} {url}: {exc}") from exc
                time.sleep(wait)
                continue
            if (wait := attempts.after(response.status_code, response.headers, None)) is None:
                return result(call, response)
            time.sleep(wait)

    @contextmanager
    def stream(self, url: str, headers: Mapping[str, str]) -> Iterator[httpx.Response]:
        """A GET whose body is read as it arrives (the SDK's headers and credentials added)."""
        with self.http.stream("GET", url, headers=self.config.headers(url) | dict(headers)) as response:
            yield response

    def close(self) -> None:
        if self._own:
            self.http.close()


class AsyncTransport:
    """Runs calls on an `httpx.AsyncClient`."""

    def __init__(self, config: Config, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._own = http is None
        self.http = http or httpx.AsyncClient(timeout=config.timeout)

    async def run(self, call: Call[T]) -> T:
        """Sends the call, retrying as its policy allows, and parses the answer."""
        url, headers, attempts = prepare(self.config, call)
        while True:
            try:
                with ExitStack() as stack:
                    response = await self.http.request(call.method, url, **_kwargs(call, headers, stack, True))
            except httpx.TransportError as exc:
                if (wait := attempts.after(None, {}, exc)) is None:
                    raise APIConnectionError(f"{call.method} {url}: {exc}") from exc
                await asyncio.sleep(wait)
                continue
            if (wait := attempts.after(response.status_code, response.headers, None)) is None:
                return result(call, response)
            await asyncio.sleep(wait)

    @asynccontextmanager
    async def stream(self, url: str, headers: Mapping[str, str]) -> AsyncIterator[httpx.Response]:
        """A GET whose body is read as it arrives (the SDK's headers and credentials added)."""
        async with self.http.stream("GET", url, headers=self.config.headers(url) | dict(headers)) as response:
            yield response

    async def aclose(self) -> None:
        if self._own:
            await self.http.aclose()
