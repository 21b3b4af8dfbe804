"""Uploaded files as encode sources: a `files/` blob key is a source only for an account that has the file.

Content is stored once for every account that uploads it, so its key (`files/sha256/<digest>`)
must not let anyone who learns a digest read (and encode) another account's bytes. IngestService's
ValidateSource, which jobs asks before it accepts a source, gets this check in front; other
sources go to it unchanged.
"""

from __future__ import annotations

from typing import Any

import grpc

from protos.ingest.v1 import ingest_pb2
from services.common.errors import InvalidArgument, R
from services.common.identity import current_principal
from services.ingest.domain import Deps
from services.ingest.files import repository
from services.ingest.files.deps import FileDeps
from services.ingest.servicer import IngestServicer

_PREFIX = "files/sha256/"


class FileSourceGuard(IngestServicer):
    def __init__(self, deps: Deps, files: FileDeps) -> None:
        super().__init__(deps)
        self._files = files

    async def ValidateSource(
        self, request: ingest_pb2.ValidateSourceRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> ingest_pb2.ValidateSourceResponse:
        key = request.source.blob_key if request.source.WhichOneof("kind") == "blob_key" else ""
        if key.startswith("files/"):
            digest = key.removeprefix(_PREFIX)
            async with self._files.sessions() as session:
                owned = key.startswith(_PREFIX) and await repository.account_has(
                    session, current_principal().account_id, digest
                )
            if not owned:  # the answer for an upload that does not exist
                raise InvalidArgument("No such upload.", reason=R.FILE_NOT_FOUND)
        return await super().ValidateSource(request, context)
