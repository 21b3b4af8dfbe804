"""The wire format of the local Google Drive (tests/fakes/drive.py): stored items, Google's error bodies,
and the `fields` and `q` mini-languages, as google-api-python-client sends and expects them."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"
GRANULE = 256 * 1024
SCOPE = "https://www.googleapis.com/auth/drive"
_UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)

USER = web.RequestKey("user", str)  # the user the bearer token belongs to
Predicate = Callable[["FakeFile"], bool]
Fields = dict[str, "Fields"]


@dataclass
class FakeFile:
    """A stored item; folders and Google Docs have no content (and so no size or md5)."""

    id: str
    name: str
    mime_type: str
    parents: list[str]
    content: bytes | None = None
    trashed: bool = False
    readers: frozenset[str] | None = None  # users who may see it; None: everybody
    seq: int = 0

    def resource(self) -> dict[str, Any]:
        res: dict[str, Any] = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "parents": list(self.parents),
            "trashed": self.trashed,
        }
        if self.content is not None:
            res["size"] = str(len(self.content))  # int64 travels as a string
            res["md5Checksum"] = hashlib.md5(self.content, usedforsecurity=False).hexdigest()
        return res


@dataclass(frozen=True)
class Seen:
    """One request as it arrived."""

    method: str
    path: str
    query: dict[str, str]
    range: str | None
    content_range: str | None
    body_size: int


@dataclass
class UploadSession:
    id: str
    user: str
    metadata: dict[str, Any]
    content_type: str
    total: int | None
    fields: str | None
    data: bytearray = field(default_factory=bytearray)
    chunks: list[int] = field(default_factory=list)  # the sizes of the PUTs that carried bytes
    file_id: str | None = None


@dataclass(frozen=True)
class Grant:
    user: str
    client_id: str
    client_secret: str


def new_id() -> str:
    return secrets.token_urlsafe(24)


def google_error(
    code: int,
    message: str,
    reason: str,
    *,
    status: str | None = None,
    location: tuple[str, str] | None = None,
    item_message: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """Google's JSON error envelope."""
    item: dict[str, str] = {"message": item_message or message, "domain": "global", "reason": reason}
    if location is not None:
        item["location"], item["locationType"] = location
    error: dict[str, Any] = {"code": code, "message": message, "errors": [item]}
    if status is not None:
        error["status"] = status
    return web.json_response({"error": error}, status=code, headers=headers)


def unauthenticated() -> web.Response:
    return google_error(
        401,
        _UNAUTHENTICATED,
        "authError",
        status="UNAUTHENTICATED",
        location=("Authorization", "header"),
        item_message="Invalid Credentials",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
    )


def not_found(file_id: str) -> web.Response:
    return google_error(
        404, f"File not found: {file_id}.", "notFound", status="NOT_FOUND", location=("fileId", "parameter")
    )


def forbidden() -> web.Response:
    return google_error(
        403,
        "The user does not have sufficient permissions for this file.",
        "insufficientFilePermissions",
        status="PERMISSION_DENIED",
    )


def invalid(location: str, message: str = "Invalid Value") -> web.Response:
    return google_error(400, message, "invalid", status="INVALID_ARGUMENT", location=(location, "parameter"))


def _parse_fields(spec: str) -> Fields:
    """'nextPageToken, files(id,name)' -> {'nextPageToken': {}, 'files': {'id': {}, 'name': {}}}."""
    root: Fields = {}
    stack: list[Fields] = []
    current, name = root, ""
    for ch in spec + ",":
        if ch not in ",()":
            name += ch
            continue
        name = name.strip()
        if ch == "(":
            stack.append(current)
            current = current.setdefault(name, {})
        elif name:
            current.setdefault(name, {})
        if ch == ")" and stack:
            current = stack.pop()
        name = ""
    return root


def _select(value: Any, fields: Fields) -> Any:
    """The parts of a resource that `fields` names; a leaf (or '*') keeps the whole value."""
    if not fields or "*" in fields:
        return value
    if isinstance(value, list):
        return [_select(item, fields) for item in value]
    if isinstance(value, dict):
        return {key: _select(value[key], sub) for key, sub in fields.items() if key in value}
    return value


def selected(resource: dict[str, Any], spec: str | None, default: str) -> web.Response:
    return web.json_response(_select(resource, _parse_fields(spec or default)))


_STR = r"'((?:[^'\\]|\\.)*)'"
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_CLAUSES: list[tuple[re.Pattern[str], Callable[[str], Predicate]]] = [
    (re.compile(rf"{_STR}\s+in\s+parents", re.I), lambda v: lambda f: v in f.parents),
    (re.compile(r"trashed\s*=\s*(true|false)", re.I), lambda v: lambda f: f.trashed == (v.lower() == "true")),
    (re.compile(rf"mimeType\s*=\s*{_STR}"), lambda v: lambda f: f.mime_type == v),
    (re.compile(rf"mimeType\s*!=\s*{_STR}"), lambda v: lambda f: f.mime_type != v),
    (re.compile(rf"mimeType\s+contains\s+{_STR}", re.I), lambda v: lambda f: v in f.mime_type),
    (re.compile(rf"name\s*=\s*{_STR}"), lambda v: lambda f: f.name == v),
    (re.compile(rf"name\s+contains\s+{_STR}", re.I), lambda v: lambda f: v in f.name),
]


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_q(q: str) -> Predicate | None:
    """The filter a Drive query names, or None when it uses anything this fake does not know."""
    preds: list[Predicate] = []
    q, pos = q.strip(), 0
    while q:
        for pattern, make in _CLAUSES:
            match = pattern.match(q, pos)
            if match:
                preds.append(make(_unquote(match.group(1))))
                pos = match.end()
                break
        else:
            return None
        if pos == len(q):
            break
        joint = _AND.match(q, pos)
        if joint is None:
            return None
        pos = joint.end()
    return lambda f: all(pred(f) for pred in preds)


def bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def media(request: web.Request, item: FakeFile) -> web.Response:
    """alt=media: the content, or the asked Range of it (206; 416 past the end)."""
    if item.content is None:
        return google_error(
            403,
            "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
            "fileNotDownloadable",
            location=("alt", "parameter"),
        )
    data, total = item.content, len(item.content)
    match = re.fullmatch(r"bytes=(\d+)-(\d*)", request.headers.get("Range", "").strip())
    if match is None:
        return web.Response(body=data, content_type=item.mime_type)
    start = int(match.group(1))
    end = min(int(match.group(2)) if match.group(2) else total - 1, total - 1)
    if start >= total or end < start:
        return web.Response(status=416, headers={"Content-Range": f"bytes */{total}"})
    return web.Response(
        status=206,
        body=data[start : end + 1],
        content_type=item.mime_type,
        headers={"Content-Range": f"bytes {start}-{end}/{total}"},
    )
