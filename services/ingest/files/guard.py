"""Blob keys as encode sources: a key is a source only for the account whose upload or stored file it is.

A key of the platform's blob store is visible in many places (a `/cdn` link shows an output's key),
so no caller may name an arbitrary one: over gRPC exactly as over REST, ValidateSource (which jobs
asks before it accepts a source) resolves a `blob_key` against the caller's own account first —
one of its stored files (content is stored once for every account that uploads it, so knowing a
digest is not enough: the account must have a file with it), or one of its classic jobs' uploads
(the upload key names its account). Anything else — another account's upload, any output — is
NOT_FOUND. Other kinds of source go to ValidateSource unchanged.
"""

from __future__ import annotations

from typing import Any

import grpc

from protos.ingest.v1 import ingest_pb2
from services.common import blobkeys
from services.common.blobstore import check_key
from services.common.errors import NotFound, R
from services.common.identity import current_principal
from services.ingest.domain import Deps
from services.ingest.files import repository
from services.ingest.files.deps import FileDeps
from services.ingest.servicer import IngestServicer


class FileSourceGuard(IngestServicer):
    def __init__(self, deps: Deps, files: FileDeps) -> None:
        super().__init__(deps)
        self._files = files

    async def ValidateSource(
        self, request: ingest_pb2.ValidateSourceRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> ingest_pb2.ValidateSourceResponse:
        if request.source.WhichOneof("kind") == "blob_key" and not await self._owns(request.source.blob_key):
            raise NotFound("No such upload.", reason=R.FILE_NOT_FOUND)  # the answer for one that does not exist
        return await super().ValidateSource(request, context)

    async def _owns(self, key: str) -> bool:
        try:
            check_key(key)  # no `..`, no absolute paths: the key is what it says it is
        except ValueError:
            return False
        account = current_principal().account_id
        digest = blobkeys.content_digest(key)
        if digest is not None:
            async with self._files.sessions() as session:
                return await repository.account_has(session, account, digest)
        return blobkeys.upload_account(key) == account
