"""Google Drive with the customer's own OAuth token: check a folder, list its videos, download, upload.

Synchronous, on google-api-python-client over httplib2: callers run it in a worker thread. httplib2
connections are not thread-safe, so every DriveClient builds its own connection, credentials and
service objects, and an instance must be used by one thread at a time (make one per job or task).

Every request, media downloads and resumable uploads included, goes to the configured API root: the
library's bundled Drive v3 discovery document is rewritten to it, as its `api_endpoint` option alone
would still send uploads to www.googleapis.com. Tokens are held by google-auth's Credentials only and
never appear in a repr, a log line or an error message. Failures surface as DomainErrors (`drive_error`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import google.auth.credentials
import google.auth.exceptions
import httplib2
from google.oauth2 import service_account
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient import discovery_cache
from googleapiclient.discovery import build_from_document
from googleapiclient.http import MediaFileUpload, MediaIoBaseDownload

from services.common.errors import DomainError, InvalidArgument, NotFound, R
from services.common.gdrive_errors import DRIVE_ERRORS, SA_REFUSED, drive_error, unreachable
from services.common.http_source import SourceError
from services.common.videofiles import FOLDER_MIME_TYPE, is_google_type, is_video

DEFAULT_API_ROOT = "https://www.googleapis.com/"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
MiB = 1 << 20
CHUNK_GRANULE = 256 * 1024  # Drive accepts resumable chunks in multiples of this (but the last)
DEFAULT_CHUNK_SIZE = 8 * MiB
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"

_FILE_FIELDS = "id,name,mimeType,size,md5Checksum,trashed"
_LIST_FIELDS = "nextPageToken,files(id,name,mimeType,size,md5Checksum)"
_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Drive ids; also keeps them safe inside a query string


@dataclass(frozen=True)
class DriveAuth:
    """A user's OAuth tokens for Drive, or a service account's key; kept out of repr (and so out of logs)."""

    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    service_account: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class DriveFile:
    """A Drive item's metadata; size and md5 are None where Drive has none (folders, Google Docs)."""

    id: str
    name: str
    mime_type: str
    size: int | None
    md5: str | None

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER_MIME_TYPE


def _check_id(item_id: str, what: str) -> str:
    if not _ID.fullmatch(item_id):
        raise InvalidArgument(f"{item_id!r} is not a Google Drive {what} id.", reason=R.REQUEST_INVALID)
    return item_id


def _api_root(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"The Google API root must be an http(s) URL, not {raw!r}.")
    return raw if raw.endswith("/") else f"{raw}/"


@functools.cache
def _drive_document() -> str:
    doc = discovery_cache.get_static_doc("drive", "v3")
    if doc is None:
        raise RuntimeError("google-api-python-client ships no Drive v3 discovery document.")
    return str(doc)


def _discovery(root: str) -> dict[str, Any]:
    """The bundled Drive v3 discovery document, every URL (API, upload, batch) under root."""
    doc: dict[str, Any] = json.loads(_drive_document())
    doc["rootUrl"] = doc["mtlsRootUrl"] = root
    doc["baseUrl"] = f"{root}{doc['servicePath']}"
    return doc


def _drive_file(resource: dict[str, Any]) -> DriveFile:
    size = resource.get("size")
    return DriveFile(
        id=str(resource["id"]),
        name=str(resource.get("name", "")),
        mime_type=str(resource.get("mimeType", "application/octet-stream")),
        size=int(size) if size is not None else None,
        md5=resource.get("md5Checksum"),
    )


class _Sink:
    """The file a download writes to: counts, hashes and stops at max_bytes; remembers a local failure."""

    def __init__(self, out: BinaryIO, max_bytes: int) -> None:
        self._out, self._max = out, max_bytes
        self.written = 0
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.failure: OSError | None = None

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.written > self._max:
            raise SourceError(f"The Google Drive file is larger than {self._max} bytes.", reason=R.FILE_TOO_LARGE)
        self.md5.update(data)
        try:
            return self._out.write(data)
        except OSError as exc:
            self.failure = exc
            raise


class DriveClient:
    """One user's Google Drive. Not thread-safe: use an instance from one thread at a time, then close it.

    With a refresh token and the OAuth client's id and secret, an expired access token is refreshed
    transparently (`auth` then holds the new one, for the caller to store); otherwise a refused access
    token is GOOGLE_DRIVE_NOT_CONNECTED. `chunk_size` is the resumable upload and ranged download step
    (a multiple of 256 KiB); `retries` is how often the library retries a 5xx or connection error.
    """

    def __init__(
        self,
        auth: DriveAuth,
        *,
        api_root: str = DEFAULT_API_ROOT,
        token_uri: str = DEFAULT_TOKEN_URI,
        client_id: str | None = None,
        client_secret: str | None = None,
        timeout: float = 30.0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        page_size: int = 1000,
        retries: int = 3,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_GRANULE:
            raise ValueError(f"chunk_size must be a positive multiple of {CHUNK_GRANULE} bytes.")
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000.")
        self._root = _api_root(api_root)
        self._chunk_size, self._page_size, self._retries = chunk_size, page_size, max(0, retries)
        self._service_account = auth.service_account is not None
        refreshable = bool(auth.refresh_token and client_id and client_secret) or self._service_account
        self._credentials = _credentials(auth, token_uri, client_id, client_secret)
        self._refresh_token = auth.refresh_token
        transport = httplib2.Http(timeout=timeout)
        # Drive answers each accepted upload chunk with "308 Resume Incomplete", which is no redirect.
        transport.redirect_codes = transport.redirect_codes - {308}
        self._http = AuthorizedHttp(
            self._credentials, http=transport, refresh_status_codes=(401,) if refreshable else ()
        )
        self._service = build_from_document(_discovery(self._root), http=self._http)
        self._files = self._service.files()

    def __repr__(self) -> str:
        return f"DriveClient(api_root={self._root!r})"

    def __enter__(self) -> DriveClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Closes the client's connections."""
        self._service.close()

    @property
    def auth(self) -> DriveAuth:
        """The tokens as they are now: after a refresh, the new access token."""
        return DriveAuth(self._credentials.token, self._refresh_token)

    def _execute(self, request: Any, subject: str) -> dict[str, Any]:
        with self._mapped(subject):
            result: dict[str, Any] = request.execute(num_retries=self._retries)
        return result

    def _error(self, exc: BaseException, subject: str) -> DomainError:
        """drive_error, saying so when Google refuses a saved service account rather than a user's token."""
        mapped = drive_error(exc, subject)
        if self._service_account and mapped.reason == R.GOOGLE_DRIVE_NOT_CONNECTED:
            return InvalidArgument(SA_REFUSED, reason=R.GOOGLE_DRIVE_NOT_CONNECTED)
        return mapped

    @contextmanager
    def _mapped(self, subject: str) -> Iterator[None]:
        try:
            yield
        except DRIVE_ERRORS as exc:
            raise self._error(exc, subject) from exc

    def _metadata(self, item_id: str, what: str) -> dict[str, Any]:
        request = self._files.get(fileId=_check_id(item_id, what), fields=_FILE_FIELDS, supportsAllDrives=True)
        return self._execute(request, f"{what} {item_id}")

    def get(self, file_id: str) -> DriveFile:
        """A file's or folder's metadata."""
        return _drive_file(self._metadata(file_id, "file"))

    def check_folder(self, folder_id: str) -> DriveFile:
        """The submit-time check: the token is accepted and folder_id names a folder (not in the trash)."""
        resource = self._metadata(folder_id, "folder")
        folder = _drive_file(resource)
        if resource.get("trashed"):
            raise NotFound(f"The Google Drive folder {folder_id} is in the trash.", reason=R.STORAGE_NOT_FOUND)
        if not folder.is_folder:
            raise NotFound(f"The Google Drive item {folder_id} is not a folder.", reason=R.STORAGE_NOT_FOUND)
        return folder

    def list_videos(self, folder_id: str, *, max_files: int | None = None) -> list[DriveFile]:
        """The videos (videofiles.is_video) directly in a folder, by name, over every page; at most max_files.

        Subfolders are not descended into; trashed files, Google Docs and other files are skipped.
        """
        if max_files is not None and max_files < 1:
            raise ValueError("max_files must be at least 1.")
        self.check_folder(folder_id)
        query = f"'{folder_id}' in parents and trashed = false and mimeType != '{FOLDER_MIME_TYPE}'"
        request = self._files.list(
            q=query,
            pageSize=self._page_size,
            orderBy="name",
            fields=_LIST_FIELDS,
            supportsAllDrives=True,
            includeItemsFromAllDrives=True,
        )
        found: list[DriveFile] = []
        while request is not None:
            page = self._execute(request, f"folder {folder_id}")
            for resource in page.get("files", []):
                item = _drive_file(resource)
                if is_video(item.name, item.mime_type):
                    found.append(item)
                    if max_files is not None and len(found) >= max_files:
                        return found
            request = self._files.list_next(request, page)
        return found

    def download(self, file_id: str, dest: Path, *, max_bytes: int) -> DriveFile:
        """Writes a file's content to dest in ranged chunks (never whole in memory), checked against its md5.

        FILE_TOO_LARGE when Drive's size (or what actually arrives) exceeds max_bytes; whatever fails,
        no partial dest is left behind.
        """
        item = self.get(file_id)
        if is_google_type(item.mime_type):
            raise InvalidArgument(
                f"The Google Drive item {file_id} ({item.mime_type}) has no content to download.",
                reason=R.CONTENT_TYPE_UNSUPPORTED,
            )
        if item.size is not None and item.size > max_bytes:
            raise SourceError(f"The Google Drive file is larger than {max_bytes} bytes.", reason=R.FILE_TOO_LARGE)
        request = self._files.get_media(fileId=file_id, supportsAllDrives=True)
        try:
            with open(dest, "wb") as out:
                sink = _Sink(out, max_bytes)
                downloader = MediaIoBaseDownload(sink, request, chunksize=self._chunk_size)
                self._drain(downloader, sink, f"file {file_id}")
            _verify(item, sink)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        return item

    def _drain(self, downloader: Any, sink: _Sink, subject: str) -> None:
        done = False
        try:
            while not done:
                _, done = downloader.next_chunk(num_retries=self._retries)
        except DRIVE_ERRORS as exc:
            if exc is sink.failure:  # the local disk, not Drive
                raise
            raise self._error(exc, subject) from exc

    def upload(self, path: Path, folder_id: str, file_name: str, mime_type: str) -> DriveFile:
        """Uploads a local file into a folder as file_name, resumably in chunk_size pieces."""
        _check_id(folder_id, "folder")
        if not file_name.strip():
            raise InvalidArgument("The Google Drive file name must not be empty.", reason=R.REQUEST_INVALID)
        size = path.stat().st_size
        media = MediaFileUpload(str(path), mimetype=mime_type, chunksize=self._chunk_size, resumable=True)
        try:
            request = self._files.create(
                body={"name": file_name, "parents": [folder_id], "mimeType": mime_type},
                media_body=media,
                fields=_FILE_FIELDS,
                supportsAllDrives=True,
            )
            response: dict[str, Any] | None = None
            with self._mapped(f"folder {folder_id}"):
                while response is None:
                    _, response = request.next_chunk(num_retries=self._retries)
        finally:
            media.stream().close()
        uploaded = _drive_file(response)
        if uploaded.size is not None and uploaded.size != size:
            raise unreachable(f"Google Drive stored {uploaded.size} of {size} bytes; the upload must be repeated.")
        return uploaded


def _credentials(
    auth: DriveAuth, token_uri: str, client_id: str | None, client_secret: str | None
) -> google.auth.credentials.Credentials:
    """OAuth credentials of the user's tokens, or a service account's (which mint their own tokens).

    A service account's tokens are always asked of the operator's token_uri, never of the one its key
    file names: a key is customer input, and its token_uri would make workers post signed assertions
    wherever it points.
    """
    if auth.service_account is not None:
        info = {**auth.service_account, "token_uri": token_uri}
        try:
            minted: google.auth.credentials.Credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=[DRIVE_SCOPE]
            )
        except (ValueError, TypeError, KeyError) as exc:  # a malformed saved key; messages never carry it
            raise InvalidArgument(SA_REFUSED, reason=R.GOOGLE_DRIVE_NOT_CONNECTED) from exc
        return minted
    refreshable = bool(auth.refresh_token and client_id and client_secret)
    return Credentials(  # type: ignore[no-untyped-call]  # google-auth leaves __init__ bare
        token=auth.access_token,
        refresh_token=auth.refresh_token if refreshable else None,
        token_uri=token_uri,
        client_id=client_id if refreshable else None,
        client_secret=client_secret if refreshable else None,
    )


def _verify(item: DriveFile, sink: _Sink) -> None:
    if item.size is not None and sink.written != item.size:
        raise unreachable(f"The Google Drive download ended after {sink.written} of {item.size} bytes.")
    if item.md5 is not None and sink.md5.hexdigest() != item.md5.lower():
        raise unreachable("The Google Drive download does not match the file's checksum.")
