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
from services.common.netguard import GuardError, blocked_reason, parse_http_url

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


# Declared types a source may have: media, and the generic labels of files a server cannot name.
_MEDIA_TOP_TYPES = frozenset({"video", "audio"})
_MEDIA_TYPES = frozenset(
    {
        "application/octet-stream",
        "binary/octet-stream",  # S3's default for objects uploaded without a type
        "application/mp4",
        "application/mxf",
        "application/ogg",
        "application/x-mpegurl",  # HLS playlists
        "application/vnd.apple.mpegurl",
        "application/dash+xml",  # DASH manifests, although XML
        "text/vnd.trolltech.linguist",  # what Debian's mime.types, and servers guessing from it, call a .ts file
    }
)
# Top-level types and application types that are documents, never audio or video.
_DOCUMENT_TOP_TYPES = frozenset({"text", "image", "font", "model", "multipart", "message"})
_DOCUMENT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/xhtml+xml",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/pdf",
        "application/x-www-form-urlencoded",
    }
)
_GIB, _MIB = 1024**3, 1024**2


def media_type_of(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower case, without parameters ("" when absent)."""
    return (content_type or "").partition(";")[0].strip().lower()


def may_be_media(content_type: str | None) -> bool:
    """Whether a source declaring this Content-Type may hold audio or video.

    Allowed: no or an empty type, video/* and audio/*, and the types of _MEDIA_TYPES (octet-stream
    labels, media application types, and the text/ type Debian gives .ts files). Refused: text/*,
    image/*, font/*, model/*, multipart/*, message/*, JSON, XML (any +json or +xml type too), JavaScript,
    PDF and form data. Any other type, e.g. the application/x-download some servers send, is given the
    benefit of the doubt: the probe judges its bytes.
    """
    media_type = media_type_of(content_type)
    if not media_type or media_type in _MEDIA_TYPES:
        return True
    top, _, sub = media_type.partition("/")
    if top in _MEDIA_TOP_TYPES:
        return True
    if top in _DOCUMENT_TOP_TYPES or media_type in _DOCUMENT_TYPES:
        return False
    return not (top == "application" and sub.endswith(("+json", "+xml")))


def _limit_text(max_bytes: int) -> str:
    for unit, name in ((_GIB, "GiB"), (_MIB, "MiB")):
        if max_bytes >= unit and max_bytes % unit == 0:
            return f"{max_bytes // unit} {name}"
    return f"{max_bytes} bytes"


def _too_large(max_bytes: int) -> SourceError:
    return SourceError(f"The source is larger than the limit of {_limit_text(max_bytes)}.", reason=R.FILE_TOO_LARGE)


def check_declared(remote: RemoteFile, *, max_bytes: int) -> None:
    """Refuses a source whose headers already tell it is over max_bytes or not audio or video."""
    if remote.size is not None and remote.size > max_bytes:
        raise SourceError(
            f"The source is {remote.size} bytes, larger than the limit of {_limit_text(max_bytes)}.",
            reason=R.FILE_TOO_LARGE,
        )
    if not may_be_media(remote.content_type):
        shown = media_type_of(remote.content_type)[:100]
        raise SourceError(
            f"The source is of type {shown!r}, which is not a video or audio file.",
            reason=R.CONTENT_TYPE_UNSUPPORTED,
        )


def parse_source_url(raw: str) -> URL:
    """The URL if it is an absolute http(s) URL with a host."""
    try:
        return parse_http_url(raw, name="sourceUrl")
    except GuardError as exc:
        raise SourceError(exc.message, reason=exc.reason) from exc


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
                raise _too_large(max_bytes)
            written = 0
            with open(dest, "wb") as out:
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise _too_large(max_bytes)
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
