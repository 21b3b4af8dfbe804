"""CredentialService over gRPC: proto <-> domain, nothing else."""

from __future__ import annotations

from typing import Any

import grpc

from protos.ingest.v1 import credentials_pb2, credentials_pb2_grpc
from services.common.identity import current_principal
from services.ingest.credentials import domain
from services.ingest.models import DriveCredential

Context = grpc.aio.ServicerContext[Any, Any]


def to_proto(record: DriveCredential) -> credentials_pb2.DriveCredential:
    message = credentials_pb2.DriveCredential(
        id=str(record.id), name=record.name, client_email=record.client_email, project_id=record.project_id
    )
    message.created_at.FromDatetime(record.created_at)
    return message


class CredentialServicer(credentials_pb2_grpc.CredentialServiceServicer):
    def __init__(self, deps: domain.CredentialDeps) -> None:
        self._deps = deps

    async def CreateDriveCredential(
        self, request: credentials_pb2.CreateDriveCredentialRequest, context: Context
    ) -> credentials_pb2.DriveCredential:
        record = await domain.create(
            self._deps, current_principal(), name=request.name, key_json=request.service_account_json
        )
        return to_proto(record)

    async def ListDriveCredentials(
        self, request: credentials_pb2.ListDriveCredentialsRequest, context: Context
    ) -> credentials_pb2.ListDriveCredentialsResponse:
        found = await domain.list_all(self._deps, current_principal())
        return credentials_pb2.ListDriveCredentialsResponse(credentials=[to_proto(r) for r in found])

    async def DeleteDriveCredential(
        self, request: credentials_pb2.DeleteDriveCredentialRequest, context: Context
    ) -> credentials_pb2.DeleteDriveCredentialResponse:
        await domain.delete(self._deps, current_principal(), request.id)
        return credentials_pb2.DeleteDriveCredentialResponse()
