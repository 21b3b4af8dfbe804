"""The jobs gRPC server and who may call what."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from protos.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from services.common.credentials import CredentialResolver
from services.common.grpc_server import GrpcServer, start_grpc_server
from services.jobs.domain import Deps
from services.jobs.servicer import JobServicer

SERVICE_NAME = jobs_pb2.DESCRIPTOR.services_by_name["JobService"].full_name
POLICIES = {
    f"/{SERVICE_NAME}/{method}": scope
    for method, scope in {
        "CreateJob": "jobs:create",
        "GetJob": "jobs:read",
        "ListJobs": "jobs:read",
        "CancelJob": "jobs:cancel",
        "GetJobLogs": "jobs:read",
        "DeleteJob": "jobs:cancel",
        "AttachUpload": "jobs:create",
        "ProbeJob": "jobs:read",
        "ApproveJob": "jobs:create",
        "ConfirmJob": "jobs:create",
        "CreateJobs": "jobs:create",
        "ConfirmJobs": "jobs:create",
        "GetBalance": "tokens:read",
        "AdjustCredits": "tokens:write",
    }.items()
}


async def create_server(
    listen: str, deps: Deps, resolver: CredentialResolver, tracer_provider: TracerProvider
) -> GrpcServer:
    """Starts the server (NOT_SERVING until the caller flips it)."""
    return await start_grpc_server(
        listen=listen,
        domain="jobs",
        tracer_provider=tracer_provider,
        resolver=resolver,
        policies=POLICIES,
        register=lambda server: jobs_pb2_grpc.add_JobServiceServicer_to_server(JobServicer(deps), server),
        service_names=[SERVICE_NAME],
    )
