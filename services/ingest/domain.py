"""Ingest use cases: deciding whether a source can be read, and what it holds, before a job runs."""

from __future__ import annotations

import asyncio
import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp

from protos.common.v1 import media_pb2, storage_pb2
from services.common import destinations, http_source
from services.common.blobstore import BlobStore, open_local
from services.common.destinations import Opener
from services.common.errors import DomainError, InvalidArgument, NotFound, R
from services.common.netguard import AddressPolicy, GuardError, check_url
from services.common.probe import probe_file, probe_stream
from services.common.videofiles import is_video
from services.ingest.config import DEFAULT_MAX_SOURCE_BYTES
from services.ingest.remote_file import RangeUnsupported, RemoteFile, probe_unranged

# Probes read through the event loop while holding a thread: they get their own threads, because
# on the default executor they could take every thread aiohttp's DNS lookups need, and wait forever.
_PROBE_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="probe")
# A server that ignores Range is read from the start: at most this much (an MP4 indexed at its end is
# read through to its index; a scratch file holds it when only a whole file tells), and for at most this
# long, which stays under the 10 s deadline of jobs' call so that a slow source gets a clear answer.
DEFAULT_UNRANGED_PROBE_BYTES = 256 * 1024**2
DEFAULT_UNRANGED_PROBE_SECONDS = 6.0


@dataclass(frozen=True)
class Deps:
    http: aiohttp.ClientSession  # a guarded session: it refuses to connect where `policy` does not allow
    blobs: BlobStore
    policy: AddressPolicy
    max_source_bytes: int = DEFAULT_MAX_SOURCE_BYTES  # a declared size above it is refused at submit
    opener: Opener | None = None  # opens customer destinations (None: none can be checked)
    unranged_probe_bytes: int = DEFAULT_UNRANGED_PROBE_BYTES  # most a probe reads of a source without Range
    unranged_probe_seconds: float = DEFAULT_UNRANGED_PROBE_SECONDS  # and for how long


@dataclass(frozen=True)
class Inspection:
    filename: str
    size: int
    content_type: str
    probe: media_pb2.MediaProbe | None = None
    probe_error: str = ""


async def validate_source(deps: Deps, *, source: storage_pb2.Source, probe: bool = False) -> Inspection:
    """The source's name, size and type (and probe); InvalidArgument when it cannot be read, or when
    a URL source's server declares it too large or of a type that is not media."""
    kind = source.WhichOneof("kind")
    if kind == "blob_key":
        return await _blob(deps, source.blob_key, probe)
    if kind == "url" and source.url:
        return await _url(deps, source.url, probe)
    if kind in ("s3", "google_drive"):
        return await _customer(deps, source)
    raise InvalidArgument("A source is required.", reason=R.BODY_INVALID)


async def _customer(deps: Deps, source: storage_pb2.Source) -> Inspection:
    """A file in a customer's bucket or Drive: it exists, the credentials read it, it may be media."""
    found = await asyncio.to_thread(destinations.inspect, opener_of(deps), source)
    if found.size > deps.max_source_bytes:
        raise InvalidArgument(
            f"The source is {found.size} bytes, larger than the limit of {deps.max_source_bytes} bytes.",
            reason=R.FILE_TOO_LARGE,
        )
    if not http_source.may_be_media(found.content_type) and not is_video(found.filename):
        raise InvalidArgument(
            f"The source is of type {found.content_type!r}, which is not a video or audio file.",
            reason=R.CONTENT_TYPE_UNSUPPORTED,
        )
    return Inspection(found.filename, found.size, found.content_type, None, "Probed when encoding.")


async def list_folder(deps: Deps, folder: storage_pb2.Source, max_files: int) -> list[destinations.Found]:
    """The videos of a customer folder (every page); 404 no_video_files_found when there are none."""
    if not (folder.HasField("s3") or folder.HasField("google_drive")):
        raise InvalidArgument("A folder is an S3 prefix or a Google Drive folder.", reason=R.BODY_INVALID)
    found = await asyncio.to_thread(destinations.list_folder, opener_of(deps), folder, max_files=max_files)
    if not found:
        raise NotFound("The folder holds no video files.", reason=R.NO_VIDEO_FILES_FOUND)
    return found


def opener_of(deps: Deps) -> Opener:
    if deps.opener is None:
        raise InvalidArgument("This server reads no customer storage.", reason=R.REQUEST_INVALID)
    return deps.opener


async def check_destination(deps: Deps, destination: storage_pb2.Destination) -> None:
    """A customer bucket or folder refuses the credentials, or is missing: a 4xx before the job exists."""
    if not (destination.HasField("s3") or destination.HasField("google_drive")):
        return
    await asyncio.to_thread(destinations.check, opener_of(deps), destination)


async def _blob(deps: Deps, key: str, probe: bool) -> Inspection:
    try:
        info = await asyncio.to_thread(deps.blobs.stat, key)
    except ValueError as exc:
        raise InvalidArgument("No such upload.", reason=R.FILE_NOT_FOUND) from exc
    if info is None:
        raise InvalidArgument("The upload has not arrived.", reason=R.FILE_NOT_FOUND)
    inspection = Inspection(posixpath.basename(key), info.size, "")
    if not probe:
        return inspection
    try:
        async with open_local(deps.blobs, key) as path:  # S3: a downloaded copy, as PyAV reads files
            try:
                return _with_probe(inspection, await asyncio.to_thread(probe_file, path))
            except DomainError as exc:
                return _with_error(inspection, exc.message)
    except FileNotFoundError as exc:  # deleted since the stat
        raise InvalidArgument("The upload has not arrived.", reason=R.FILE_NOT_FOUND) from exc


async def _url(deps: Deps, url: str, probe: bool) -> Inspection:
    try:
        check_url(url, deps.policy)  # names and literal addresses, before any connection
    except GuardError as exc:
        raise http_source.SourceError(exc.message, reason=exc.reason) from exc
    remote = await http_source.inspect(deps.http, url)
    http_source.check_declared(remote, max_bytes=deps.max_source_bytes)  # what the headers tell, before a probe
    inspection = Inspection(remote.filename, remote.size or 0, remote.content_type or "")
    if not probe:
        return inspection
    try:
        return _with_probe(inspection, await _probe_url(deps, url, remote.size))
    except DomainError as exc:
        return _with_error(inspection, exc.message)


async def _probe_url(deps: Deps, url: str, size: int | None) -> media_pb2.MediaProbe:
    """With Range requests where the server answers them (only what the demuxer asks for is read),
    else from the body streamed from its start, within the unranged limits; in the probe threads."""
    try:
        reader = await RemoteFile.open(deps.http, url)
    except RangeUnsupported:
        return await probe_unranged(
            deps.http,
            url,
            size=size or 0,
            max_bytes=deps.unranged_probe_bytes,
            seconds=deps.unranged_probe_seconds,
            executor=_PROBE_THREADS,
        )
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_PROBE_THREADS, probe_stream, reader, reader.size)


def _with_probe(inspection: Inspection, probe: media_pb2.MediaProbe) -> Inspection:
    return Inspection(inspection.filename, inspection.size, inspection.content_type, probe, "")


def _with_error(inspection: Inspection, error: str) -> Inspection:
    return Inspection(inspection.filename, inspection.size, inspection.content_type, None, error)
