"""The classic flow's uploads: a signed PUT (the upload URL of POST /jobs) or S3-multipart-shaped chunks.

A finished upload becomes the job's source (jobs.AttachUpload).
"""

from __future__ import annotations

import asyncio
import hashlib
import posixpath
import secrets
import uuid

from aiohttp import web

from gateway.auth import CALLER, public, requires
from gateway.clients import CLIENTS
from gateway.downloads import BLOBS, check_link
from gateway.jobview import remember
from gateway.schemas import StreamFinalizeRequest, read_json
from gateway.uploads import TOKENS, UPLOAD_SIGNER, receive
from protos.jobs.v1 import jobs_pb2
from services.common import blobkeys
from services.common.blobstore import BlobStore
from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, PermissionDenied, R
from services.common.identity import Principal, bearer_metadata

routes = web.RouteTableDef()


async def _attach(
    request: web.Request, account: uuid.UUID, job_id: str, metadata: tuple[tuple[str, str], ...], size: int
) -> jobs_pb2.Job:
    clients = request.app[CLIENTS]
    job = await clients.jobs.AttachUpload(
        jobs_pb2.AttachUploadRequest(job_id=job_id, blob_key=blobkeys.upload_source(account, job_id), size_bytes=size),
        timeout=clients.timeout,
        metadata=metadata,
    )
    return remember(request, job)


@routes.put("/uploads/{job_id}")
@public
async def signed_put(request: web.Request) -> web.Response:
    """The upload URL of POST /jobs: authorized by its signature, not by a key."""
    job_id = request.match_info["job_id"]
    try:
        account = uuid.UUID(request.query.get("account", ""))
    except ValueError as exc:
        raise PermissionDenied("The upload URL is not valid.", reason=R.FORBIDDEN) from exc
    check_link(request, request.app[UPLOAD_SIGNER], job_id, "The upload URL", account=str(account))
    # The signature vouches for the account: act for it, with just enough scope to attach.
    token, _ = request.app[TOKENS].issue(Principal(account_id=account, scopes=frozenset({"jobs:create", "jobs:read"})))
    await _check_created(request, job_id, bearer_metadata(token))
    key = blobkeys.upload_source(account, job_id)
    size, md5 = await receive(request, key)
    await _attach(request, account, job_id, bearer_metadata(token), size)
    return web.json_response({"ok": True, "key": key, "size": size, "ETag": md5})


async def _check_created(request: web.Request, job_id: str, metadata: tuple[tuple[str, str], ...]) -> jobs_pb2.Job:
    clients = request.app[CLIENTS]
    job = await clients.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), timeout=clients.timeout, metadata=metadata)
    if job.status != jobs_pb2.JOB_STATUS_CREATED or job.source.url:
        raise FailedPrecondition("This job does not take an upload.", reason=R.JOB_ACTIVE)
    if job.HasField("estimate"):  # priced from the source it has: replacing it would void the estimate
        raise FailedPrecondition("The job was approved with its source; it can no longer change.", reason=R.JOB_ACTIVE)
    return job


@routes.post("/jobs/{job_id}/stream/init")
@requires("jobs:create")
async def stream_init(request: web.Request) -> web.Response:
    job_id, account = request.match_info["job_id"], _account(request)
    await _check_created(request, job_id, request[CALLER].metadata)
    await asyncio.to_thread(request.app[BLOBS].delete, blobkeys.upload_parts(account, job_id))  # a restart
    return web.json_response(
        {"ok": True, "uploadId": secrets.token_hex(12), "inputKey": blobkeys.upload_source(account, job_id)}
    )


def _account(request: web.Request) -> uuid.UUID:
    return request[CALLER].principal.account_id


@routes.put("/jobs/{job_id}/stream/chunk/{index}")
@requires("jobs:create")
async def stream_chunk(request: web.Request) -> web.Response:
    job_id, raw = request.match_info["job_id"], request.match_info["index"]
    await _check_created(request, job_id, request[CALLER].metadata)  # another account's job: 404 first
    if not raw.isdigit() or not 1 <= int(raw) <= 10000:
        raise InvalidArgument(
            "A chunk index runs from 1 to 10000.",
            reason=R.REQUEST_INVALID,
            violations=[FieldViolation("index", "must be 1 to 10000")],
        )
    size, md5 = await receive(request, blobkeys.upload_part(_account(request), job_id, int(raw)))
    return web.json_response({"ok": True, "index": int(raw), "size": size, "ETag": md5})


def _assemble(blobs: BlobStore, account: uuid.UUID, job_id: str, numbers: list[int]) -> int:
    """Joins the parts in order into the source (streamed, a chunk at a time); the parts go away."""
    size = 0
    with blobs.writer(blobkeys.upload_source(account, job_id)) as scratch, open(scratch, "wb") as out:
        for number in numbers:
            for chunk in blobs.read_chunks(blobkeys.upload_part(account, job_id, number)):
                out.write(chunk)
                size += len(chunk)
    blobs.delete(blobkeys.upload_parts(account, job_id))
    return size


def _md5(blobs: BlobStore, key: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in blobs.read_chunks(key):
        digest.update(chunk)
    return digest.hexdigest()


def _present(blobs: BlobStore, account: uuid.UUID, job_id: str) -> list[int]:
    """The numbers of the chunks uploaded so far, in order."""
    names = (posixpath.basename(info.key) for info in blobs.listing(blobkeys.upload_parts(account, job_id)))
    return sorted(int(name) for name in names if name.isdigit())


@routes.post("/jobs/{job_id}/stream/finalize")
@requires("jobs:create")
async def stream_finalize(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    body = await read_json(request, StreamFinalizeRequest, optional=True)
    caller = request[CALLER]
    await _check_created(request, job_id, caller.metadata)
    blobs = request.app[BLOBS]
    account = caller.principal.account_id
    present = await asyncio.to_thread(_present, blobs, account, job_id)
    if body.parts is not None:
        wanted = [p.PartNumber for p in sorted(body.parts, key=lambda p: p.PartNumber)]
        missing = [n for n in wanted if n not in present]
        if missing:
            raise InvalidArgument(  # as S3's InvalidPart
                f"Chunks {missing} were not uploaded.",
                reason=R.REQUEST_INVALID,
                violations=[FieldViolation("parts", f"chunks {missing} were not uploaded")],
            )
        for part in body.parts:
            part_key = blobkeys.upload_part(account, job_id, part.PartNumber)
            if await asyncio.to_thread(_md5, blobs, part_key) != part.ETag.strip('"'):
                raise InvalidArgument(f"Chunk {part.PartNumber} does not match its ETag.", reason=R.BODY_INVALID)
        present = wanted
    if not present:
        raise FailedPrecondition("No chunks were uploaded.", reason=R.REQUEST_INVALID)
    size = await asyncio.to_thread(_assemble, blobs, account, job_id, present)
    await _attach(request, account, job_id, caller.metadata, size)
    key = blobkeys.upload_source(account, job_id)
    return web.json_response({"ok": True, "key": key, "size": size, "parts": len(present)})


@routes.post("/jobs/{job_id}/stream/abort")
@requires("jobs:create")
async def stream_abort(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    await _check_created(request, job_id, request[CALLER].metadata)
    await asyncio.to_thread(request.app[BLOBS].delete, blobkeys.upload_parts(_account(request), job_id))
    return web.json_response({"ok": True})
