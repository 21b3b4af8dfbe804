"""Customer storage: sources read from, and outputs delivered to, S3 buckets and Google Drive folders.

Credentials arrive in the request, are sealed by the gateway at once (SecretBox, the platform key,
context CONTEXT) and travel sealed: in the jobs database, on the TASKS stream, through ingest's
check at submit, to the worker that uploads. Only those two open them, for the call that needs them.
Synchronous: callers run these in a worker thread.
"""

from __future__ import annotations

import posixpath
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protos.common.v1 import storage_pb2
from services.common.errors import InvalidArgument, R
from services.common.netguard import AddressPolicy
from services.common.secretbox import CUSTOMER_CREDENTIALS as CONTEXT
from services.common.secretbox import SecretBox
from services.common.videofiles import is_video

if TYPE_CHECKING:  # boto3 and the Drive client load only where a destination is opened
    from services.common.gdrive import DriveClient
    from services.common.s3store import S3Store

_STORES_KEPT = 64  # S3 clients kept for reuse (the oldest goes first) ...
_STORE_TTL = 120.0  # ... for at most this many seconds
DEFAULT_API_ROOT = "https://www.googleapis.com/"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class GoogleApp:
    """Where Drive is reached, and the operator's OAuth client (refreshes a customer's token if set)."""

    api_root: str = DEFAULT_API_ROOT
    token_uri: str = DEFAULT_TOKEN_URI
    client_id: str | None = None
    client_secret: str | None = None


@dataclass(frozen=True)
class Opener:
    """What opening a destination takes: the platform key, the address policy, the Drive settings."""

    box: SecretBox
    policy: AddressPolicy
    google: GoogleApp = GoogleApp()
    _stores: dict[tuple[str, str, str, bool, str], tuple[S3Store, float]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def seal(self, credentials: dict[str, Any]) -> str:
        return self.box.seal_json({k: v for k, v in credentials.items() if v}, context=CONTEXT)

    def _open(self, sealed: str) -> dict[str, Any]:
        return self.box.open_json(sealed, context=CONTEXT) if sealed else {}

    def s3(self, dest: storage_pb2.S3Location) -> S3Store:
        """A store for the location's bucket and credentials; reused (a boto3 client takes ~0.1 s to build,
        and is safe to share between threads), so a folder's thousand objects cost one."""
        from services.common.s3store import S3Config, S3Store

        identity = (dest.bucket, dest.region, dest.endpoint, dest.force_path_style, dest.credentials)
        now = time.monotonic()
        with self._lock:
            for key in [k for k, (_, at) in self._stores.items() if now - at > _STORE_TTL]:
                del self._stores[key]  # a client holds the opened credentials: not for long
            cached = self._stores.get(identity)
        if cached is not None:
            return cached[0]
        creds = self._open(dest.credentials)
        config = S3Config(
            bucket=dest.bucket,
            region=dest.region or "us-east-1",
            endpoint=dest.endpoint or None,
            access_key_id=creds.get("accessKeyId"),
            secret_access_key=creds.get("secretAccessKey"),
            force_path_style=dest.force_path_style,
        )
        store = S3Store(config, policy=self.policy)
        with self._lock:
            if len(self._stores) >= _STORES_KEPT:
                self._stores.pop(next(iter(self._stores)))
            self._stores[identity] = (store, now)
        return store

    def drive(self, dest: storage_pb2.DriveLocation) -> DriveClient:
        from services.common.gdrive import DriveAuth, DriveClient

        creds = self._open(dest.credentials)
        auth = DriveAuth(
            access_token=creds.get("accessToken"),
            refresh_token=creds.get("refreshToken"),
            service_account=creds.get("serviceAccount"),  # a saved credential (services/ingest/credentials)
        )
        g = self.google
        return DriveClient(
            auth, api_root=g.api_root, token_uri=g.token_uri, client_id=g.client_id, client_secret=g.client_secret
        )


def s3_key(dest: storage_pb2.S3Location, filename: str) -> str:
    """The object key: the given key, or the prefix followed by the output's file name."""
    if dest.key:
        return dest.key
    prefix = dest.prefix
    return f"{prefix}{'' if not prefix or prefix.endswith('/') else '/'}{filename}"


def check(opener: Opener, dest: storage_pb2.Destination) -> None:
    """At submit: the bucket takes these credentials / the token opens this folder (4xx otherwise)."""
    if dest.HasField("s3"):
        opener.s3(dest.s3).check_writable()
    if dest.HasField("google_drive"):
        client = opener.drive(dest.google_drive)
        try:
            client.check_folder(dest.google_drive.folder_id)
        finally:
            client.close()


def deliver(opener: Opener, dest: storage_pb2.Destination, path: Path, filename: str, content_type: str) -> list[str]:
    """Uploads the output to each customer destination; where it went, for the job's log."""
    places = []
    if dest.HasField("s3"):
        key = s3_key(dest.s3, filename)
        opener.s3(dest.s3).upload(path, key, content_type)
        places.append(f"s3://{dest.s3.bucket}/{key}")
    if dest.HasField("google_drive"):
        drive = dest.google_drive
        client = opener.drive(drive)
        try:
            uploaded = client.upload(path, drive.folder_id, drive.file_name or filename, content_type)
        finally:
            client.close()
        places.append(f"Google Drive folder {drive.folder_id}, file {uploaded.id}")
    return places


@dataclass(frozen=True)
class Found:
    """A customer file a job can read: its source (credentials still sealed), name, size and type."""

    source: storage_pb2.Source
    filename: str
    size: int
    content_type: str = ""


def inspect(opener: Opener, source: storage_pb2.Source) -> Found:
    """At submit: the object or file exists and the credentials read it. An item of a folder listing
    was seen by that listing, with the same credentials, a moment ago: it is not looked at twice."""
    if source.HasField("s3") and source.s3.listed_size:
        return Found(source, posixpath.basename(source.s3.key), source.s3.listed_size)
    if source.HasField("google_drive") and source.google_drive.listed_name:
        drive = source.google_drive
        return Found(source, drive.listed_name, drive.listed_size)
    if source.HasField("s3"):
        info = opener.s3(source.s3).head(source.s3.key)
        return Found(source, posixpath.basename(info.key), info.size, info.content_type or "")
    client = opener.drive(source.google_drive)
    try:
        found = client.get(source.google_drive.file_id)
    finally:
        client.close()
    if found.is_folder:
        raise InvalidArgument("The Google Drive id names a folder, not a file.", reason=R.REQUEST_INVALID)
    return Found(source, found.name, found.size or 0, found.mime_type)


def fetch(opener: Opener, source: storage_pb2.Source, dest: Path, *, max_bytes: int) -> None:
    """The worker's download of a customer file, streamed to dest."""
    if source.HasField("s3"):
        opener.s3(source.s3).download(source.s3.key, dest, max_bytes=max_bytes)
        return
    client = opener.drive(source.google_drive)
    try:
        client.download(source.google_drive.file_id, dest, max_bytes=max_bytes)
    finally:
        client.close()


def list_folder(opener: Opener, folder: storage_pb2.Source, *, max_files: int = 0) -> list[Found]:
    """The videos (videofiles.is_video) under an S3 prefix or in a Drive folder, each a job's source."""
    found: list[Found] = []
    if folder.HasField("s3"):
        for obj in opener.s3(folder.s3).list(folder.s3.prefix):
            name = posixpath.basename(obj.key)
            if not is_video(name):
                continue
            item = storage_pb2.Source()
            item.s3.CopyFrom(folder.s3)
            item.s3.key, item.s3.prefix, item.s3.listed_size = obj.key, "", obj.size
            found.append(Found(item, name, obj.size))
            if max_files and len(found) >= max_files:
                break
        return found
    client = opener.drive(folder.google_drive)
    try:
        files = client.list_videos(folder.google_drive.folder_id, max_files=max_files or None)
    finally:
        client.close()
    for f in files:
        item = storage_pb2.Source()
        item.google_drive.CopyFrom(folder.google_drive)
        item.google_drive.file_id, item.google_drive.folder_id = f.id, ""
        item.google_drive.listed_size, item.google_drive.listed_name = f.size or 0, f.name
        found.append(Found(item, f.name, f.size or 0, f.mime_type))
    return found
