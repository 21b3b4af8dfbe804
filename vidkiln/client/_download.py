"""Downloads streamed to disk that resume: `<dest>.part` holds the bytes so far and `<dest>.part.json` the
validator (ETag, else Last-Modified) they came with; the next attempt asks for the rest with `Range` and
`If-Range`, so a file that changed meanwhile comes whole again instead of being spliced."""

from __future__ import annotations

import asyncio
import enum
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from vidkiln.client._http import AsyncTransport, Attempts, SyncTransport
from vidkiln.client.errors import APIConnectionError, error_from_response

Progress = Callable[[int, int | None], None]  # (bytes on disk, total when known)
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED = re.compile(r"bytes \*/(\d+)")
CHUNK = 1 << 16


@dataclass(frozen=True)
class DownloadResult:
    """Where the file is, its size, and how many of its bytes were already on disk from an earlier attempt."""

    path: Path
    size: int
    resumed_from: int
    etag: str | None


class _Mode(enum.Enum):
    FRESH = "fresh"  # 200: the whole body (first attempt, a changed file, or a server without Range)
    APPEND = "append"  # 206 from where the partial file ends
    COMPLETE = "complete"  # 416 and the partial file is the whole of it
    RESTART = "restart"  # a range that does not fit the partial file: start again
    ERROR = "error"


class Partial:
    """The partial file of a download and what it was validated with."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.part = dest.with_name(dest.name + ".part")
        self.meta = dest.with_name(dest.name + ".part.json")

    def state(self) -> tuple[int, str | None]:
        """(bytes on disk, validator); a partial file without a validator cannot be resumed and is dropped."""
        try:
            validator = json.loads(self.meta.read_text())["validator"]
            return self.part.stat().st_size, str(validator)
        except (OSError, ValueError, KeyError, TypeError):
            self.reset()
            return 0, None

    def begin(self, validator: str | None) -> None:
        """A fresh body: the validator first (so an interruption leaves a resumable file), then empty bytes."""
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self.part.write_bytes(b"")
        if validator:
            self.meta.write_text(json.dumps({"validator": validator}))
        else:
            self.meta.unlink(missing_ok=True)

    def reset(self) -> None:
        self.part.unlink(missing_ok=True)
        self.meta.unlink(missing_ok=True)

    def finish(self, resumed_from: int) -> DownloadResult:
        validator = json.loads(self.meta.read_text())["validator"] if self.meta.exists() else None
        size = self.part.stat().st_size
        os.replace(self.part, self.dest)
        self.meta.unlink(missing_ok=True)
        etag = validator if validator and validator.startswith(('"', 'W/"')) else None
        return DownloadResult(self.dest, size, resumed_from, etag)


def request_headers(have: int, validator: str | None) -> dict[str, str]:
    if have > 0 and validator:
        return {"Range": f"bytes={have}-", "If-Range": validator, "Accept-Encoding": "identity"}
    return {"Accept-Encoding": "identity"}


def _mode(status: int, headers: Mapping[str, str], have: int, validator: str | None) -> _Mode:
    if status == 200:
        return _Mode.FRESH
    if status == 206:
        found = _RANGE.fullmatch(headers.get("Content-Range", ""))
        now = _validator(headers)
        # A server that does not evaluate an ETag in If-Range (aiohttp's, today) sends the rest of whatever the file
        # is now: its own validator tells whether that is still the file the partial came from.
        same = now is None or now == validator
        return _Mode.APPEND if found and int(found.group(1)) == have and same else _Mode.RESTART
    if status == 416 and have > 0:
        found = _UNSATISFIED.fullmatch(headers.get("Content-Range", ""))
        return _Mode.COMPLETE if found and int(found.group(1)) == have else _Mode.RESTART
    return _Mode.ERROR


def _validator(headers: Mapping[str, str]) -> str | None:
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):  # If-Range needs a strong validator
        return etag
    return headers.get("Last-Modified")


def _total(headers: Mapping[str, str], offset: int) -> int | None:
    found = _RANGE.fullmatch(headers.get("Content-Range", ""))
    if found and found.group(3) != "*":
        return int(found.group(3))
    length = headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


class _Incomplete(httpx.TransportError):
    """The connection ended before the body did."""


@dataclass
class _Run:
    """One download's state across its attempts."""

    partial: Partial
    attempts: Attempts
    on_progress: Progress | None
    resumed_from: int | None = None
    restarted: bool = False

    def start(self, response: httpx.Response, mode: _Mode, have: int) -> tuple[int, int | None] | None:
        """(offset, total) for the body to append, or None when the file is complete; offset -1: start again."""
        if mode is _Mode.COMPLETE:
            return None
        if mode is _Mode.RESTART:
            if self.restarted:
                raise APIConnectionError(f"{response.url}: the server's ranges do not fit the file")
            self.restarted = True
            self.partial.reset()
            return (-1, None)
        if mode is _Mode.FRESH:
            self.partial.begin(_validator(response.headers))
            have = 0
        if self.resumed_from is None:
            self.resumed_from = have
        return have, _total(response.headers, have)

    def wrote(self, offset: int, total: int | None) -> None:
        if self.on_progress is not None:
            self.on_progress(offset, total)

    def check(self, offset: int, total: int | None) -> None:
        if total is not None and offset < total:
            raise _Incomplete(f"the body ended after {offset} of {total} bytes")


def download(
    transport: SyncTransport,
    url: str,
    dest: str | os.PathLike[str],
    *,
    resume: bool,
    on_progress: Progress | None,
    chunk_size: int = CHUNK,
) -> DownloadResult:
    """Streams `url` to `dest`, resuming a partial file and retrying broken connections, 429s and 503s."""
    run = _Run(Partial(Path(dest)), Attempts(transport.config, True, "GET", url, None), on_progress)
    if not resume:
        run.partial.reset()
    while True:
        have, validator = run.partial.state()
        try:
            with transport.stream(url, request_headers(have, validator)) as response:
                mode = _mode(response.status_code, response.headers, have, validator)
                if mode is _Mode.ERROR:
                    response.read()
                    if (wait := run.attempts.after(response.status_code, response.headers, None)) is None:
                        raise error_from_response(response.status_code, response.headers, response.content)
                    time.sleep(wait)
                    continue
                plan = run.start(response, mode, have)
                if plan is None:
                    break
                offset, total = plan
                if offset < 0:
                    continue
                with open(run.partial.part, "ab") as out:
                    for chunk in response.iter_bytes(chunk_size):
                        out.write(chunk)
                        offset += len(chunk)
                        run.wrote(offset, total)
                run.check(offset, total)
                break
        except httpx.TransportError as exc:
            if (wait := run.attempts.after(None, {}, exc)) is None:
                raise APIConnectionError(f"GET {url}: {exc}") from exc
            time.sleep(wait)
    return run.partial.finish(run.resumed_from or 0)


async def adownload(
    transport: AsyncTransport,
    url: str,
    dest: str | os.PathLike[str],
    *,
    resume: bool,
    on_progress: Progress | None,
    chunk_size: int = CHUNK,
) -> DownloadResult:
    """`download` on the async transport (the file is written on the event loop, a chunk at a time)."""
    run = _Run(Partial(Path(dest)), Attempts(transport.config, True, "GET", url, None), on_progress)
    if not resume:
        run.partial.reset()
    while True:
        have, validator = run.partial.state()
        try:
            async with transport.stream(url, request_headers(have, validator)) as response:
                mode = _mode(response.status_code, response.headers, have, validator)
                if mode is _Mode.ERROR:
                    await response.aread()
                    if (wait := run.attempts.after(response.status_code, response.headers, None)) is None:
                        raise error_from_response(response.status_code, response.headers, response.content)
                    await asyncio.sleep(wait)
                    continue
                plan = run.start(response, mode, have)
                if plan is None:
                    break
                offset, total = plan
                if offset < 0:
                    continue
                with open(run.partial.part, "ab") as out:
                    async for chunk in response.aiter_bytes(chunk_size):
                        out.write(chunk)
                        offset += len(chunk)
                        run.wrote(offset, total)
                run.check(offset, total)
                break
        except httpx.TransportError as exc:
            if (wait := run.attempts.after(None, {}, exc)) is None:
                raise APIConnectionError(f"GET {url}: {exc}") from exc
            await asyncio.sleep(wait)
    return run.partial.finish(run.resumed_from or 0)
