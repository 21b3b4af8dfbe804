"""Signed download links for job outputs, and serving them from the blob store (/cdn/*).

A local blob store's files go out as aiohttp FileResponses (sendfile); any other store's blobs stream through
the gateway (gateway/blobresponse.py), so the signed /cdn/ links stay the one public way to them.
"""

from __future__ import annotations

import posixpath
from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web

from gateway.blobresponse import serve_stored
from protos.jobs.v1 import jobs_pb2
from services.common.blobstore import BlobStore, LocalBlobStore
from services.common.errors import NotFound, PermissionDenied, R, Unavailable
from services.common.signing import UrlSigner

SIGNER = web.AppKey("url_signer", UrlSigner)
BLOBS: web.AppKey[BlobStore] = web.AppKey("blobs")
PUBLIC_URL = web.AppKey("public_url", str)


def download_url(request: web.Request, job: jobs_pb2.Job, now: datetime) -> str | None:
    """A signed link to a succeeded job's output while it has not expired; else None."""
    if job.status != jobs_pb2.JOB_STATUS_SUCCEEDED or not job.output.key:
        return None
    expires_at = job.output_expires_at.ToDatetime(tzinfo=UTC)
    if expires_at <= now:
        return None
    path = request.app[SIGNER].path(job.output.key, expires_at=expires_at, name=job.output_filename)
    return public_base(request) + path


def public_base(request: web.Request) -> str:
    """Where callers reach this gateway: the configured public URL, else the address this connection reached.

    Never the request's Host header: a link built from it points wherever the caller says (a `Host:
    evil.example` request would get `http://evil.example/cdn/...` links to hand out)."""
    return request.app[PUBLIC_URL].rstrip("/") or _bound_origin(request)


def _bound_origin(request: web.Request) -> str:
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if not sockname:
        raise Unavailable("The connection is gone.", reason=R.UNAVAILABLE)
    host, port = str(sockname[0]), int(sockname[1])
    scheme = "https" if transport is not None and transport.get_extra_info("sslcontext") else "http"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def check_link(
    request: web.Request, signer: UrlSigner, resource: str, what: str, *, sig: str = "sig", **claims: str
) -> None:
    """403 unless the request's query carries a valid, unexpired signature of `signer` over resource and
    claims (`what` names the link in the message: "The download link")."""
    query = request.query
    try:
        expires = int(query.get("expires", ""))
    except ValueError:
        expires = 0
    if not signer.verify(resource, expires=expires, sig=query.get(sig, ""), **claims):
        raise PermissionDenied(f"{what} is not valid.", reason=R.FORBIDDEN)
    if expires <= datetime.now(UTC).timestamp():
        raise PermissionDenied(f"{what} has expired.", reason=R.FORBIDDEN)


async def serve(request: web.Request) -> web.StreamResponse:
    """GET/HEAD /cdn/{key}: checks signature and expiry, then streams the file (Range, ETag)."""
    key, name = request.match_info["key"], request.query.get("name", "")
    check_link(request, request.app[SIGNER], key, "The download link", name=name)
    return await serve_blob(request, key, name=name)


async def serve_blob(
    request: web.Request,
    key: str,
    *,
    name: str = "",
    content_type: str | None = None,
    inline: bool = False,
) -> web.StreamResponse:
    """A blob with Range, HEAD, ETag and Last-Modified: aiohttp's FileResponse for a local store, else streamed
    from the store (not yet sent: callers may still add headers)."""
    blobs = request.app[BLOBS]
    headers = {"Cache-Control": "private, max-age=3600"}
    if content_type:
        headers["Content-Type"] = content_type
    headers["Content-Disposition"] = _disposition(name or posixpath.basename(key), inline)
    if not isinstance(blobs, LocalBlobStore):
        return await serve_stored(request, blobs, key, headers)
    try:
        path = blobs.path_of(key)
    except ValueError as exc:
        raise NotFound("No such file.", reason=R.FILE_NOT_FOUND) from exc
    if not path.is_file():
        raise NotFound("No such file.", reason=R.FILE_NOT_FOUND)
    return web.FileResponse(path, headers=headers)


def _disposition(name: str, inline: bool) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
