"""CredentialService on the ingest gRPC server: its access policies and registration."""

from __future__ import annotations

import grpc

from protos.ingest.v1 import credentials_pb2, credentials_pb2_grpc
from services.ingest.credentials.domain import CredentialDeps
from services.ingest.credentials.servicer import CredentialServicer

SERVICE_NAME = credentials_pb2.DESCRIPTOR.services_by_name["CredentialService"].full_name
POLICIES = {
    f"/{SERVICE_NAME}/CreateDriveCredential": "credentials:manage",
    f"/{SERVICE_NAME}/ListDriveCredentials": "credentials:manage",
    f"/{SERVICE_NAME}/DeleteDriveCredential": "credentials:manage",
    # A job may use a saved credential by id: whoever creates jobs for the account.
}


def register(server: grpc.aio.Server, deps: CredentialDeps) -> None:
    credentials_pb2_grpc.add_CredentialServiceServicer_to_server(CredentialServicer(deps), server)
