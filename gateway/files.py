"""The Media API's files at the edge: uploads streamed into the blob store, sealed, and served.

An upload part streams to a scratch file a chunk at a time (never whole in memory), its SHA-256
computed as it is written. It is then staged under
`files/incoming/<hex>`, synced unless its content is already stored, and ingest's FileService
records it, moving it to its content address `files/sha256/<digest>` or dropping it as a
duplicate. The gateway seals (staging key, size, digest) with a key derived from the platform key:
ingest trusts a digest only with that seal.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from gateway.clients import CLIENTS, call_options
from gateway.downloads import BLOBS, check_link, public_base, serve_blob
from gateway.uploads import MAX_UPLOAD
from gateway.views import iso
from protos.ingest.v1 import files_pb2
from services.common import blobkeys
from services.common.blobstore import BlobStore, LocalBlobStore
from services.common.errors import FieldViolation, InvalidArgument, PermissionDenied, R
from services.common.signing import UrlSigner

FILE_SIGNER = web.AppKey("file_signer", UrlSigner)  # signed links: GET /api/v1/files/secure/{id}
SEALER = web.AppKey("file_sealer", UrlSigner)
SECURE_PREFIX = "/api/v1/files/secure/"
SEAL_PURPOSE = "file-digest"  # the purpose ingest checks seals with (services/ingest/files/storage.py)
STAGING_PREFIX = blobkeys.FILE_STAGING
CHUNK = 1 << 20
_FLUSH_EVERY = 64 << 20
_SEAL_TTL = timedelta(minutes=10)
# The slowest a bucket is assumed to copy: in one, ingest's move of an upload to its content address is a
# server-side copy, whose time grows with the size (a local rename takes none).
_COPY_BYTES_PER_SECOND = 50 << 20


TYPES = {
    "video": files_pb2.FILE_TYPE_VIDEO,
    "audio": files_pb2.FILE_TYPE_AUDIO,
    "image": files_pb2.FILE_TYPE_IMAGE,
    "document": files_pb2.FILE_TYPE_DOCUMENT,
    "other": files_pb2.FILE_TYPE_OTHER,
}
TYPE_NAMES = {value: name for name, value in TYPES.items()}
FileTypeName = Literal["video", "audio", "image", "document", "other"]
_TEXT_FIELDS = {"file_type": 64, "subdirectory": 255, "description": 2000}  # field -> longest value (bytes)
_FORM_SLACK = 64 * 1024  # multipart headers and the text fields around the file


def invalid(name: str, problem: str) -> InvalidArgument:
    return InvalidArgument(
        "Request validation failed", reason=R.REQUEST_INVALID, violations=[FieldViolation(name, problem)]
    )


@dataclass(frozen=True)
class Staged:
    key: str
    size: int
    sha256: str


class _Sink:
    """A scratch file and the digest of what went into it; `flush` (writeback of what is written so
    far) runs in a worker thread while more is written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: BinaryIO = open(path, "wb")  # closed by finish or discard
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.file.write(chunk)

    def flush(self) -> None:
        os.fdatasync(self.file.fileno())  # only the descriptor: the loop may be writing meanwhile

    def finish(self, blobs: BlobStore, key: str) -> str:
        """Closes the file and stages it under `key` (synced unless its content is stored already)."""
        self.file.flush()
        if blobs.stat(blobkeys.file_content(self.digest.hexdigest())) is None:
            os.fsync(self.file.fileno())
        self.file.close()
        blobs.commit(self.path, key, durable=False)  # synced above when it has to be
        return self.digest.hexdigest()

    def discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


def too_large(limit: int) -> InvalidArgument:
    return InvalidArgument(f"The file is larger than {limit} bytes.", reason=R.FILE_TOO_LARGE)


async def stage(blobs: BlobStore, part: BodyPartReader, limit: int, field: str) -> Staged:
    """Streams one multipart part into the blob store's staging area: its key, size and digest.

    Each chunk (what the connection has buffered, a few hundred kilobytes) is hashed and copied to
    the page cache on the event loop: a fraction of a millisecond, and measurably cheaper than a
    hand-off to a thread per chunk. Every 64 MiB a worker thread writes back what is on disk so far,
    so the final fsync has little left and dirty memory stays bounded (a disk slower than the
    network makes the upload wait for the previous writeback, never the event loop)."""
    key = f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    sink = await asyncio.to_thread(_Sink, blobs.scratch_path(key))
    flushing: asyncio.Future[None] | None = None
    size = unflushed = 0
    try:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            sink.write(chunk)
            unflushed += len(chunk)
            if unflushed >= _FLUSH_EVERY:
                if flushing is not None:
                    await asyncio.shield(flushing)  # cancelled or not, the thread runs to its end
                flushing, unflushed = asyncio.ensure_future(asyncio.to_thread(sink.flush)), 0
        if size == 0:
            raise InvalidArgument(
                "The file is empty.", reason=R.REQUEST_INVALID, violations=[FieldViolation(field, "is empty")]
            )
        if flushing is not None:
            await asyncio.shield(flushing)
        return Staged(key, size, await asyncio.to_thread(sink.finish, blobs, key))
    except BaseException:
        if flushing is not None:  # the thread must be done with the file before it goes
            await asyncio.gather(flushing, return_exceptions=True)
        await asyncio.to_thread(sink.discard)
        raise


@dataclass
class _Form:
    staged: list[tuple[Staged, str, str]] = field(default_factory=list)  # (upload, file name, declared type)
    fields: dict[str, str] = field(default_factory=dict)


async def _text(part: BodyPartReader, name: str) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(8192):
        data += chunk
        if len(data) > _TEXT_FIELDS[name]:
            raise invalid(name, f"must be at most {_TEXT_FIELDS[name]} bytes")
    try:
        return data.decode().strip()
    except UnicodeDecodeError:
        raise invalid(name, "must be UTF-8 text") from None


async def read_form(request: web.Request, file_field: str, max_files: int) -> _Form:
    """Streams each file part to the blob store and keeps the text fields; 400 on anything else."""
    if request.content_type != "multipart/form-data":
        raise invalid(file_field, "is required: send multipart/form-data")
    limit = request.app[MAX_UPLOAD]
    if (request.content_length or 0) > limit * max_files + _FORM_SLACK:  # refused before a byte is read
        raise too_large(limit)
    form = _Form()
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name not in (file_field, *_TEXT_FIELDS):
                raise invalid(str(getattr(part, "name", "") or "body"), "is not a field of this form")
            if part.name in _TEXT_FIELDS:
                form.fields[part.name] = await _text(part, part.name)
                if part.name == "file_type" and form.fields["file_type"] not in TYPES:
                    raise invalid("file_type", f"must be one of {', '.join(TYPES)}")
                continue
            if len(form.staged) == max_files:
                raise invalid(file_field, f"at most {max_files} files at a time")
            name = part.filename or ""
            if any(ord(c) < 32 or ord(c) == 127 for c in name):
                raise invalid(file_field, "the file name must not contain control characters")
            staged = await stage(request.app[BLOBS], part, limit, file_field)
            form.staged.append((staged, name, part.headers.get("Content-Type", "")))
    # aiohttp's words for a malformed multipart body; a part's bad header (a NUL in it) is an HttpProcessingError
    except (ValueError, AssertionError, HttpProcessingError) as exc:
        await unstage(request, [s for s, _, _ in form.staged])
        raise InvalidArgument("The multipart body is malformed.", reason=R.BODY_INVALID) from exc
    except BaseException:
        await unstage(request, [s for s, _, _ in form.staged])
        raise
    if not form.staged:
        raise invalid(file_field, "is required")
    return form


def seal(signer: UrlSigner, staged: Staged) -> tuple[str, int]:
    """The gateway's word that the staged bytes have this size and digest (ingest checks it)."""
    expires_at = datetime.now(UTC) + _SEAL_TTL
    path = signer.path(staged.key, expires_at=expires_at, sha256=staged.sha256, size=str(staged.size))
    query = dict(parse_qsl(urlsplit(path).query))
    return query["sig"], int(query["expires"])


async def unstage(request: web.Request, staged: list[Staged]) -> None:
    """Removes staged uploads that were not (or not all) recorded."""
    await asyncio.to_thread(request.app[BLOBS].delete_many, [s.key for s in staged])


def inline_safe(content_type: str) -> bool:
    """Types a browser may render from this origin (never HTML or SVG: they could run scripts)."""
    if content_type in ("application/pdf", "text/plain"):
        return True
    return content_type.split("/", 1)[0] in ("video", "audio", "image") and content_type != "image/svg+xml"


async def serve_file(request: web.Request, file: files_pb2.File, *, inline: bool) -> web.StreamResponse:
    """The content (Range, ETag, If-None-Match), inline only when its type is safe to render."""
    response = await serve_blob(
        request,
        file.blob_key,
        name=file.filename,
        content_type=file.content_type or None,
        inline=inline and inline_safe(file.content_type),
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def counts_as_access(request: web.Request) -> bool:
    """A GET from the first byte (a player's later ranged reads of the same file do not count again)."""
    wanted = request.headers.get("Range", "").replace(" ", "")
    return request.method == "GET" and (not wanted or wanted.startswith("bytes=0-"))


def signed_url(request: web.Request, file_id: str, account_id: uuid.UUID, expires_at: datetime) -> str:
    """`/api/v1/files/secure/{id}?expires=..&user_id=..&signature=..` on this gateway's public URL."""
    path = request.app[FILE_SIGNER].path(file_id, expires_at=expires_at, user_id=str(account_id))
    split = urlsplit(path)
    query = [("signature" if name == "sig" else name, value) for name, value in parse_qsl(split.query)]
    return f"{public_base(request)}{split.path}?{urlencode(query)}"


def check_signed(request: web.Request, file_id: str) -> uuid.UUID:
    """The account a signed link acts for; 403 when the signature is wrong or the link has expired."""
    try:
        account = uuid.UUID(request.query.get("user_id", ""))
    except ValueError as exc:
        raise PermissionDenied("The link is not valid.", reason=R.FORBIDDEN) from exc
    check_link(request, request.app[FILE_SIGNER], file_id, "The link", sig="signature", user_id=str(account))
    return account


def choice(request: web.Request, name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    value = request.query.get(name, default)
    if value is not None and value not in choices:
        raise invalid(name, f"must be one of {', '.join(choices)}")
    return value


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid(name, f"must be an integer from {low} to {high}")
    return int(raw)


def file_view(f: files_pb2.File) -> dict[str, Any]:
    kind = TYPE_NAMES.get(f.file_type, "other")
    base = f"/api/v1/files/{f.id}"
    return {
        "id": f.id,
        "filename": f.filename,
        "size": f.size_bytes,
        "content_type": f.content_type,
        "file_type": kind,
        "subdirectory": f.subdirectory or None,
        "description": f.description or None,
        "checksum": f"sha256:{f.sha256}",
        "blob_key": f.blob_key,  # use it as an encode job's source
        "deduplicated": f.deduplicated,
        "download_count": f.download_count,
        "created_at": iso(f.created_at, f.HasField("created_at")),
        "updated_at": iso(f.updated_at, f.HasField("updated_at")),
        "metadata": None,  # GET .../metadata probes the content
        "download_url": f"{base}/download",
        "stream_url": f"{base}/stream",
        "thumbnail_url": f"{base}/thumbnail" if kind in ("video", "image") else None,
    }


async def register(request: web.Request, file_field: str, max_files: int) -> list[files_pb2.File]:
    """Streams the form's files to the blob store, then records them all with one RPC to ingest."""
    form = await read_form(request, file_field, max_files)
    kind = TYPES.get(form.fields.get("file_type", ""), files_pb2.FILE_TYPE_UNSPECIFIED)
    news = []
    for staged, filename, declared in form.staged:
        sig, expires = seal(request.app[SEALER], staged)
        news.append(
            files_pb2.NewFile(
                staging_key=staged.key,
                size_bytes=staged.size,
                sha256=staged.sha256,
                seal=sig,
                seal_expires=expires,
                filename=filename,
                content_type=declared,
                file_type=kind,
                subdirectory=form.fields.get("subdirectory", ""),
                description=form.fields.get("description", ""),
            )
        )
    options = call_options(request)
    if not isinstance(request.app[BLOBS], LocalBlobStore):
        options["timeout"] += sum(s.size for s, _, _ in form.staged) / _COPY_BYTES_PER_SECOND
    try:
        answer = await request.app[CLIENTS].files.RegisterFiles(files_pb2.RegisterFilesRequest(files=news), **options)
    except BaseException:
        await unstage(request, [s for s, _, _ in form.staged])
        raise
    return list(answer.files)
