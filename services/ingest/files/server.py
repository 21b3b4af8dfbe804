"""FileService on the ingest gRPC server: its access policies and registration."""

from __future__ import annotations

import grpc

from protos.ingest.v1 import files_pb2, files_pb2_grpc
from services.ingest.files.deps import FileDeps
from services.ingest.files.servicer import FileServicer

SERVICE_NAME = files_pb2.DESCRIPTOR.services_by_name["FileService"].full_name
# The Media API's permissions: upload_files (jobs:create), read_files (jobs:read), delete_files (jobs:cancel).
POLICIES = {
    f"/{SERVICE_NAME}/RegisterFiles": "jobs:create",
    f"/{SERVICE_NAME}/GetFile": "jobs:read",
    f"/{SERVICE_NAME}/ListFiles": "jobs:read",
    f"/{SERVICE_NAME}/DescribeFile": "jobs:read",
    f"/{SERVICE_NAME}/RecordAccess": "jobs:read",
    f"/{SERVICE_NAME}/GetThumbnail": "jobs:read",
    f"/{SERVICE_NAME}/GetFileStats": "jobs:read",
    f"/{SERVICE_NAME}/DeleteFile": "jobs:cancel",
    f"/{SERVICE_NAME}/CleanupFiles": "jobs:cancel",
}


def register(server: grpc.aio.Server, deps: FileDeps) -> None:
    files_pb2_grpc.add_FileServiceServicer_to_server(FileServicer(deps), server)
