"""Reading sources over HTTP(S): inspect before a job is accepted, stream to disk when it runs."""

from __future__ import annotations

import email.message
import logging
import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import aiohttp
from yarl import URL

from services.common.errors import InvalidArgument, R, Reason
from services.common.netguard import GuardError, blocked_reason

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """What a server tells about a source before its bytes are read."""

    filename: str
    size: int | None
    content_type: str | None


class SourceError(InvalidArgument):
    """The source cannot be read; `transient` says whether trying again later may help."""

    def __init__(self, message: str, *, reason: Reason, transient: bool = False) -> None:
        super().__init__(message, reason=reason)
        self.transient = transient


def parse_source_url(raw: str) -> URL:
    """The URL if it is an absolute http(s) URL with a host."""
    try:
        url = URL(raw)
    except (ValueError, TypeError) as exc:
        raise SourceError("sourceUrl is not a valid URL.", reason=R.URL_INVALID) from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise SourceError("sourceUrl must be an absolute http:// or https:// URL.", reason=R.URL_INVALID)
    return url


def filename_of(url: URL, content_disposition: str | None) -> str:
    """The file's name: Content-Disposition's filename, else the last path segment."""
    if content_disposition:
        msg = email.message.Message()
        msg["content-disposition"] = content_disposition
        name = msg.get_filename()
        if name:
            return posixpath.basename(name.replace("\\", "/")) or "source"
    return posixpath.basename(unquote(url.path)) or "source"


def client_timeout(connect: float = 10.0, read: float = 30.0) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)


def _raise_if_blocked(exc: BaseException) -> None:
    """A refused address (the guarded session's doing) is final: no retry reaches it."""
    blocked = blocked_reason(exc)
    if blocked is not None:
        raise SourceError(blocked.message, reason=blocked.reason) from exc


def _status_error(status: int) -> SourceError:
    transient = status >= 500 or status in (408, 425, 429)
    return SourceError(f"The source server answered HTTP {status}.", reason=R.SOURCE_UNREACHABLE, transient=transient)


def _remote(url: URL, resp: aiohttp.ClientResponse, *, ranged: bool = False) -> RemoteFile:
    size: int | None = None
    if ranged and resp.status == 206:
        total = resp.headers.get("Content-Range", "").rpartition("/")[2]
        size = int(total) if total.isdigit() else None
    elif resp.content_length is not None:
        size = resp.content_length
    ctype = resp.headers.get("Content-Type")
    return RemoteFile(filename_of(url, resp.headers.get("Content-Disposition")), size, ctype)


async def inspect(session: aiohttp.ClientSession, raw_url: str) -> RemoteFile:
    """HEAD the source (a one-byte ranged GET where HEAD is refused) without reading its body."""
    url = parse_source_url(raw_url)
    try:
        async with session.head(url, allow_redirects=True) as resp:
            if resp.status not in (405, 501):
                if resp.status >= 400:
                    raise _status_error(resp.status)
                return _remote(url, resp)
        async with session.get(url, headers={"Range": "bytes=0-0"}) as resp:
            if resp.status >= 400:
                raise _status_error(resp.status)
            return _remote(url, resp, ranged=True)
    except (aiohttp.ClientError, GuardError) as exc:
        _raise_if_blocked(exc)
        raise SourceError(
            f"The source could not be reached: {exc.__class__.__name__}.",
            reason=R.SOURCE_UNREACHABLE,
            transient=True,
        ) from exc
    except TimeoutError as exc:
        raise SourceError("The source did not answer in time.", reason=R.SOURCE_UNREACHABLE, transient=True) from exc


async def download(session: aiohttp.ClientSession, raw_url: str, dest: Path, *, max_bytes: int) -> RemoteFile:
    """Streams the source into dest chunk by chunk; never holds the whole file in memory."""
    url = parse_source_url(raw_url)
    try:
        async with session.get(url) as resp:
            if resp.status >= 400:
                raise _status_error(resp.status)
            remote = _remote(url, resp)
            if remote.size is not None and remote.size > max_bytes:
                raise SourceError(f"The source is larger than {max_bytes} bytes.", reason=R.FILE_TOO_LARGE)
            written = 0
            with open(dest, "wb") as out:
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise SourceError(f"The source is larger than {max_bytes} bytes.", reason=R.FILE_TOO_LARGE)
                    out.write(chunk)
            return RemoteFile(remote.filename, written, remote.content_type)
    except (aiohttp.ClientError, GuardError) as exc:
        _raise_if_blocked(exc)
        raise SourceError(
            f"Reading the source failed: {exc.__class__.__name__}.",
            reason=R.SOURCE_UNREACHABLE,
            transient=True,
        ) from exc
    except TimeoutError as exc:
        raise SourceError("The source stopped sending data.", reason=R.SOURCE_UNREACHABLE, transient=True) from exc
