"""A local Google Drive: the Drive v3 and OAuth2 token wire protocol that google-api-python-client speaks.

`running_drive()` starts an aiohttp server on 127.0.0.1 (a free port, in a thread of its own, so both
synchronous and asynchronous tests can use it) and yields a `DriveFake`: point a client at `.root`
(API and upload URLs) and `.token_uri`, seed users, tokens, folders and files directly, and inspect
what arrived (`.seen`, `.uploads`, `.files`, `.token_grants`).

What is implemented, as Google answers it:
- `GET /drive/v3/files/{id}`: metadata, `fields` honoured loosely (default kind,id,name,mimeType);
  with `alt=media` the content, `Range: bytes=a-b` answered 206 (416 past the end); Google types 403.
- `GET /drive/v3/files`: `q` as clauses joined by `and` (`'<id>' in parents`, `trashed = true|false`,
  `mimeType =|!=|contains '...'`, `name =|contains '...'`; anything else is 400), `orderBy` (name or
  insertion order), `pageSize` (1..1000, default 100), `pageToken`/`nextPageToken`, `fields`.
- `POST /upload/drive/v3/files?uploadType=resumable` (JSON metadata) -> 200 with a `Location` session;
  `PUT` of chunks with `Content-Range: bytes a-b/total` -> 308 `Range: bytes=0-b` until the last -> 200
  with the file's metadata; non-final chunks must be multiples of 256 KiB; `bytes */total` asks the state.
- `POST /token` with grant_type=refresh_token: a new access token for a known refresh token and client;
  with the JWT bearer grant of a service account (`.accounts.create()` issues key files; see
  tests/fakes/drive_accounts.py): an access token for the account, whose user is its client email.
- Every Drive call needs `Authorization: Bearer <valid token>` (else Google's 401 JSON); an unknown id is
  Google's 404 `notFound`; a file whose `readers` exclude the token's user is 403.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.fakes.drive_accounts import JWT_BEARER, Refusal, ServiceAccounts
from tests.fakes.drive_uploads import ResumableUploads
from tests.fakes.drive_wire import (
    FOLDER,
    SCOPE,
    USER,
    FakeFile,
    Grant,
    Seen,
    UploadSession,
    bearer,
    forbidden,
    google_error,
    invalid,
    media,
    new_id,
    not_found,
    parse_q,
    selected,
    unauthenticated,
)


class DriveFake(ResumableUploads):
    """The server's state and its handlers; seed and inspect from any thread."""

    def __init__(self) -> None:
        self.root = ""  # http://127.0.0.1:<port>/ once started
        self.files: dict[str, FakeFile] = {}
        self.uploads: dict[str, UploadSession] = {}
        self.seen: list[Seen] = []
        self.token_grants = 0
        self.accounts = ServiceAccounts()
        self._access: dict[str, str] = {}  # access token -> user
        self._grants: dict[str, Grant] = {}  # refresh token -> grant
        self._page_tokens: dict[str, tuple[str, int]] = {}  # page token -> (query, offset)
        self._faults: deque[tuple[int, str] | None] = deque()  # None: let one call pass
        self._seq = 0
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def token_uri(self) -> str:
        return f"{self.root}token"

    # -- seeding -----------------------------------------------------------------------------------

    def add_token(self, user: str = "alice") -> str:
        """A new valid access token for user."""
        token = f"ya29.{secrets.token_urlsafe(32)}"
        with self._lock:
            self._access[token] = user
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._access.pop(token, None)
            self._grants.pop(token, None)

    def add_refresh_token(self, user: str = "alice", *, client_id: str, client_secret: str) -> str:
        token = f"1//{secrets.token_urlsafe(32)}"
        with self._lock:
            self._grants[token] = Grant(user, client_id, client_secret)
        return token

    def add_folder(self, name: str, parent: str = "root", *, readers: frozenset[str] | None = None) -> str:
        return self._add(FakeFile(new_id(), name, FOLDER, [parent], None, readers=readers))

    def add_file(
        self,
        name: str,
        parent: str,
        content: bytes | None = b"",
        *,
        mime_type: str = "video/mp4",
        trashed: bool = False,
        readers: frozenset[str] | None = None,
    ) -> str:
        """A file (content None for a Google Docs type, which has no bytes)."""
        return self._add(FakeFile(new_id(), name, mime_type, [parent], content, trashed, readers))

    def fail_next(self, status: int, reason: str = "backendError", count: int = 1, *, after: int = 0) -> None:
        """After `after` more Drive calls (the token endpoint not counted), `count` answer `status`."""
        with self._lock:
            self._faults.extend([None] * after + [(status, reason)] * count)

    def _add(self, item: FakeFile) -> str:
        with self._lock:
            self._seq += 1
            item.seq = self._seq
            self.files[item.id] = item
        return item.id

    # -- inspection --------------------------------------------------------------------------------

    def requests(self, method: str, path_prefix: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.method == method and s.path.startswith(path_prefix)]

    def children(self, folder_id: str) -> list[FakeFile]:
        with self._lock:
            return [f for f in self.files.values() if folder_id in f.parents]

    def valid(self, token: str) -> bool:
        with self._lock:
            return token in self._access

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="drive-fake", daemon=True)
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        self.root = f"http://127.0.0.1:{port}/"

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = self._runner = None

    async def _serve(self) -> int:
        app = web.Application(middlewares=[self._front])
        app.add_routes(
            [
                web.get("/drive/v3/files", self._list),
                web.get("/drive/v3/files/{file_id}", self._get),
                web.post("/upload/drive/v3/files", self._start_upload),
                web.put("/upload/drive/v3/files", self._put_chunk),
                web.post("/token", self._token),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return int(self._runner.addresses[0][1])

    # -- protocol ----------------------------------------------------------------------------------

    @web.middleware
    async def _front(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Records the request; Drive calls get injected faults first, then the bearer token check."""
        body = await request.read()
        with self._lock:
            self.seen.append(
                Seen(
                    request.method,
                    request.path,
                    dict(request.query),
                    request.headers.get("Range"),
                    request.headers.get("Content-Range"),
                    len(body),
                )
            )
            fault = self._faults.popleft() if self._faults and request.path != "/token" else None
            user = self._access.get(bearer(request))
        if request.path == "/token":
            return await handler(request)
        if fault is not None:
            return google_error(fault[0], "Backend Error" if fault[0] >= 500 else "Rate Limit Exceeded", fault[1])
        if user is None:
            return unauthenticated()
        request[USER] = user
        return await handler(request)

    def _lookup(self, file_id: str, user: str) -> FakeFile | web.Response:
        item = self.files.get(file_id)
        if item is None:
            return not_found(file_id)
        if item.readers is not None and user not in item.readers:
            return forbidden()
        return item

    async def _get(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        with self._lock:
            found = self._lookup(file_id, request[USER])
        if isinstance(found, web.Response):
            return found
        if request.query.get("alt") == "media":
            return media(request, found)
        return selected(found.resource(), request.query.get("fields"), "kind,id,name,mimeType")

    async def _list(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "")
        wanted = parse_q(q)
        if wanted is None:
            return invalid("q", "Invalid Value")
        try:
            page_size = int(request.query.get("pageSize", "100"))
        except ValueError:
            return invalid("pageSize")
        if not 1 <= page_size <= 1000:
            return invalid("pageSize")
        offset = 0
        token = request.query.get("pageToken")
        with self._lock:
            if token:
                issued = self._page_tokens.get(token)
                if issued is None or issued[0] != q:
                    return invalid("pageToken")
                offset = issued[1]
            user = request[USER]
            matches = [f for f in self.files.values() if (f.readers is None or user in f.readers) and wanted(f)]
            if "name" in request.query.get("orderBy", ""):
                matches.sort(key=lambda f: (f.name, f.id))
            else:
                matches.sort(key=lambda f: f.seq)
            page = matches[offset : offset + page_size]
            body: dict[str, Any] = {
                "kind": "drive#fileList",
                "incompleteSearch": False,
                "files": [f.resource() for f in page],
            }
            if offset + page_size < len(matches):
                next_token = secrets.token_urlsafe(16)
                self._page_tokens[next_token] = (q, offset + page_size)
                body["nextPageToken"] = next_token
        return selected(
            body, request.query.get("fields"), "kind,incompleteSearch,nextPageToken,files(kind,id,name,mimeType)"
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        if values.get("grant_type") == JWT_BEARER:
            proven = self.accounts.grant(values.get("assertion", ""), self.token_uri, SCOPE)
            if isinstance(proven, Refusal):
                return web.json_response(
                    {"error": proven.error, "error_description": proven.description}, status=proven.status
                )
            return web.json_response(
                {"access_token": self.add_token(proven), "expires_in": 3599, "token_type": "Bearer"}
            )
        if values.get("grant_type") != "refresh_token":
            return web.json_response(
                {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}, status=400
            )
        with self._lock:
            grant = self._grants.get(values.get("refresh_token", ""))
            if grant is None:
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, status=400
                )
            if (values.get("client_id"), values.get("client_secret")) != (grant.client_id, grant.client_secret):
                return web.json_response({"error": "invalid_client", "error_description": "Unauthorized"}, status=401)
            self.token_grants += 1
        access = self.add_token(grant.user)
        return web.json_response({"access_token": access, "expires_in": 3599, "scope": SCOPE, "token_type": "Bearer"})


@contextmanager
def running_drive() -> Iterator[DriveFake]:
    """A started DriveFake, stopped on exit."""
    fake = DriveFake()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
