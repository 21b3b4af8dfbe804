"""Sources arriving through the gateway: signed upload targets and streaming a body to the blob store.

Bodies stream straight into the blob store, a chunk at a time: nothing holds a whole upload in
memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from aiohttp import web

from gateway.downloads import BLOBS, public_base
from services.common import blobkeys
from services.common.blobstore import BlobStore
from services.common.errors import InvalidArgument, R
from services.common.identity import TokenSigner
from services.common.signing import UrlSigner

UPLOAD_SIGNER = web.AppKey("upload_signer", UrlSigner)
TOKENS = web.AppKey("token_signer", TokenSigner)
MAX_UPLOAD = web.AppKey("max_upload_bytes", int)
CHUNK = 1 << 20
_UPLOAD_URL_TTL = timedelta(hours=24)


def upload_target(request: web.Request, job_id: str, account_id: uuid.UUID) -> dict[str, str]:
    """The classic flow's `upload`: a signed PUT URL, valid for a day, and the key it fills."""
    expires_at = datetime.now(UTC) + _UPLOAD_URL_TTL
    path = request.app[UPLOAD_SIGNER].path(job_id, expires_at=expires_at, account=str(account_id))
    return {"url": public_base(request) + path, "key": blobkeys.upload_source(account_id, job_id)}


async def receive(request: web.Request, key: str) -> tuple[int, str]:
    """Streams the request body into the blob store under `key`: (size, MD5 hex)."""
    blobs: BlobStore = request.app[BLOBS]
    limit = request.app[MAX_UPLOAD]
    if (request.content_length or 0) > limit:  # refused before a byte is read
        raise InvalidArgument(f"The upload is larger than {limit} bytes.", reason=R.FILE_TOO_LARGE)
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    scratch = blobs.scratch_path(key)
    try:
        handle = await asyncio.to_thread(open, scratch, "wb")
        try:
            async for chunk in request.content.iter_chunked(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise InvalidArgument(f"The upload is larger than {limit} bytes.", reason=R.FILE_TOO_LARGE)
                digest.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)
        if size == 0:
            raise InvalidArgument("The upload is empty.", reason=R.BODY_INVALID)
        await asyncio.to_thread(blobs.commit, scratch, key)  # a sync, or an upload to S3: off the event loop
    finally:
        scratch.unlink(missing_ok=True)
    return size, digest.hexdigest()
