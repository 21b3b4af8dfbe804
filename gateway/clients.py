"""Stubs for the internal services the gateway calls, over traced channels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from aiohttp import web
from opentelemetry.sdk.trace import TracerProvider

from gateway.auth import CALLER
from protos.auth.v1 import auth_pb2_grpc
from protos.ingest.v1 import credentials_pb2_grpc, files_pb2_grpc, ingest_pb2_grpc
from protos.jobs.v1 import jobs_pb2_grpc
from protos.webhooks.v1 import webhooks_pb2_grpc
from services.common.grpc_client import open_channel


@dataclass(frozen=True)
class Clients:
    auth: auth_pb2_grpc.AuthServiceAsyncStub
    jobs: jobs_pb2_grpc.JobServiceAsyncStub
    webhooks: webhooks_pb2_grpc.WebhookServiceAsyncStub
    files: files_pb2_grpc.FileServiceAsyncStub  # ingest's
    credentials: credentials_pb2_grpc.CredentialServiceAsyncStub  # ingest's
    ingest: ingest_pb2_grpc.IngestServiceAsyncStub
    timeout: float
    auth_channel: grpc.aio.Channel
    jobs_channel: grpc.aio.Channel
    webhooks_channel: grpc.aio.Channel
    ingest_channel: grpc.aio.Channel

    async def close(self) -> None:
        for channel in (self.auth_channel, self.jobs_channel, self.webhooks_channel, self.ingest_channel):
            await channel.close()


CLIENTS = web.AppKey("clients", Clients)


def connect(
    *,
    auth_addr: str,
    jobs_addr: str,
    webhooks_addr: str,
    ingest_addr: str,
    tracer_provider: TracerProvider,
    timeout: float,
) -> Clients:
    auth = open_channel(auth_addr, tracer_provider)
    jobs = open_channel(jobs_addr, tracer_provider)
    webhooks = open_channel(webhooks_addr, tracer_provider)
    ingest = open_channel(ingest_addr, tracer_provider)
    return Clients(
        auth=auth_pb2_grpc.AuthServiceStub(auth),
        jobs=jobs_pb2_grpc.JobServiceStub(jobs),
        webhooks=webhooks_pb2_grpc.WebhookServiceStub(webhooks),
        files=files_pb2_grpc.FileServiceStub(ingest),
        credentials=credentials_pb2_grpc.CredentialServiceStub(ingest),
        ingest=ingest_pb2_grpc.IngestServiceStub(ingest),
        timeout=timeout,
        auth_channel=auth,
        jobs_channel=jobs,
        webhooks_channel=webhooks,
        ingest_channel=ingest,
    )


def call_options(request: web.Request) -> dict[str, Any]:
    """Timeout and the caller's forwarded identity, for a call made on a request's behalf."""
    return {"timeout": request.app[CLIENTS].timeout, "metadata": request[CALLER].metadata}
