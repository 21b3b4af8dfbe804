"""Resumable uploads of the local Google Drive (tests/fakes/drive.py), as Drive v3 answers them.

`POST /upload/drive/v3/files?uploadType=resumable` (JSON metadata) -> 200 with a `Location` session;
`PUT` of chunks with `Content-Range: bytes a-b/total` -> 308 `Range: bytes=0-b` until the last -> 200
with the file's metadata; non-final chunks must be multiples of 256 KiB; `bytes */total` asks the state.
"""

from __future__ import annotations

import json
import re
import secrets
import threading

from aiohttp import web

from tests.fakes.drive_wire import (
    FOLDER,
    GRANULE,
    USER,
    FakeFile,
    UploadSession,
    google_error,
    invalid,
    new_id,
    selected,
)


class ResumableUploads:
    """The upload handlers; DriveFake supplies the stored files and the lock."""

    files: dict[str, FakeFile]
    uploads: dict[str, UploadSession]
    _lock: threading.RLock

    def _lookup(self, file_id: str, user: str) -> FakeFile | web.Response:
        raise NotImplementedError

    def _add(self, item: FakeFile) -> str:
        raise NotImplementedError

    async def _start_upload(self, request: web.Request) -> web.Response:
        if request.query.get("uploadType") != "resumable":
            return invalid("uploadType", "This fake implements resumable uploads only.")
        raw = await request.read()
        try:
            metadata = json.loads(raw) if raw else {}
        except ValueError:
            return google_error(400, "Parse Error", "parseError")
        if not isinstance(metadata, dict):
            return google_error(400, "Parse Error", "parseError")
        user = request[USER]
        parents = metadata.get("parents") or ["root"]
        with self._lock:
            for parent in parents:
                if parent == "root":
                    continue
                found = self._lookup(parent, user)
                if isinstance(found, web.Response):
                    return found
                if found.mime_type != FOLDER:
                    return google_error(400, "The specified parent is not a folder.", "invalidParent")
            length = request.headers.get("X-Upload-Content-Length")
            session = UploadSession(
                id=secrets.token_urlsafe(24),
                user=user,
                metadata={**metadata, "parents": parents},
                content_type=request.headers.get("X-Upload-Content-Type", "application/octet-stream"),
                total=int(length) if length and length.isdigit() else None,
                fields=request.query.get("fields"),
            )
            self.uploads[session.id] = session
        location = f"{request.url.origin()}/upload/drive/v3/files?uploadType=resumable&upload_id={session.id}"
        return web.Response(status=200, headers={"Location": location})

    async def _put_chunk(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self._lock:
            session = self.uploads.get(request.query.get("upload_id", ""))
            if session is None:
                return google_error(404, "Upload session not found.", "notFound")
            if session.file_id is not None:
                return self._finished(session)
            content_range = request.headers.get("Content-Range")
            if content_range is None:  # an empty file: no range to name
                session.total = len(session.data) + len(body)
                session.data += body
                return self._finish(session)
            status = re.fullmatch(r"bytes \*/(\d+|\*)", content_range)
            if status is not None:
                if status.group(1).isdigit():
                    session.total = int(status.group(1))
                if session.total == len(session.data):
                    return self._finish(session)
                return self._incomplete(session)
            chunk = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", content_range)
            if chunk is None:
                return google_error(400, "Failed to parse Content-Range header.", "badContent")
            start, end = int(chunk.group(1)), int(chunk.group(2))
            if chunk.group(3).isdigit():
                session.total = int(chunk.group(3))
            if start != len(session.data) or end - start + 1 != len(body):
                return google_error(400, "Failed to parse Content-Range header.", "badContent")
            final = session.total is not None and end + 1 == session.total
            if not final and len(body) % GRANULE:
                return google_error(
                    400,
                    "Invalid request. The number of bytes uploaded is required to be equal or greater than 262144, "
                    "except for the final request (it's recommended to be the exact multiple of 262144).",
                    "badRequest",
                )
            session.data += body
            session.chunks.append(len(body))
            return self._finish(session) if final else self._incomplete(session)

    @staticmethod
    def _incomplete(session: UploadSession) -> web.Response:
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        return web.Response(status=308, headers=headers)

    def _finish(self, session: UploadSession) -> web.Response:
        meta = session.metadata
        item = FakeFile(
            new_id(),
            str(meta.get("name") or "Untitled"),
            str(meta.get("mimeType") or session.content_type),
            list(meta["parents"]),
            bytes(session.data),
        )
        session.file_id = self._add(item)
        return self._finished(session)

    def _finished(self, session: UploadSession) -> web.Response:
        assert session.file_id is not None
        return selected(self.files[session.file_id].resource(), session.fields, "kind,id,name,mimeType")
