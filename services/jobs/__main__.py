"""Runs the jobs service: `python -m services.jobs`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack

from opentelemetry.sdk.trace import TracerProvider

from protos.jobs.v1 import jobs_pb2
from services.common import subjects
from services.common.auth_client import open_resolver
from services.common.cancel import CancelSignals
from services.common.db import open_database
from services.common.events import Publisher, connect_nats, ensure_streams, run_pull_consumer
from services.common.grpc_client import open_channel
from services.common.identity import TokenSigner
from services.common.lifecycle import finish, run_until_signal, until_stopped
from services.common.telemetry import configure_logging, configure_tracing
from services.jobs import consumers
from services.jobs.clients import IngestClient, WebhooksClient
from services.jobs.config import Settings
from services.jobs.domain import Deps, Policy
from services.jobs.domain.credits import TrialPolicy
from services.jobs.models import JobsTable
from services.jobs.server import create_server
from services.jobs.sweeper import run_sweeper


async def run(
    settings: Settings,
    *,
    tracer_provider: TracerProvider,
    stop: asyncio.Event,
    on_ready: Callable[[int], None] = lambda _port: None,
) -> None:
    """Serves RPCs, consumes encoder events and sweeps until `stop` is set."""
    tracer = tracer_provider.get_tracer("vidkiln.jobs")
    async with AsyncExitStack() as stack:
        sessions = await stack.enter_async_context(open_database(settings.database_url_for("jobs"), JobsTable.metadata))
        nc = await connect_nats(settings.nats_url, name="jobs")
        stack.push_async_callback(nc.drain)
        js = nc.jetstream()
        await ensure_streams(js)
        channel = open_channel(settings.ingest_addr, tracer_provider)
        stack.push_async_callback(channel.close)
        ingest = IngestClient(channel, timeout=settings.rpc_timeout, signer=TokenSigner(settings.platform_key()))
        webhooks_channel = open_channel(settings.webhooks_addr, tracer_provider)
        stack.push_async_callback(webhooks_channel.close)
        webhooks = WebhooksClient(webhooks_channel, timeout=settings.rpc_timeout)
        cancels = await CancelSignals.open(nc, js)

        async def announce_job(job: jobs_pb2.Job) -> None:
            await nc.publish(subjects.JOB_VIEW, job.SerializeToString())  # buffered: no round trip

        deps = Deps(
            sessions=sessions,
            publisher=Publisher(js, tracer),
            inspect_source=ingest.inspect_source,
            announce_cancel=cancels.announce,
            delete_objects=ingest.delete_objects,  # jobs never opens the blob store: ingest owns it
            announce_job=announce_job,
            check_destination=ingest.check_destination,
            resolve_source=ingest.resolve_source,
            resolve_destination=ingest.resolve_destination,
            check_callback=webhooks.check_callback,
            policy=Policy(
                max_running_per_account=settings.max_running_per_account,
                trial=TrialPolicy(grant=settings.trial_grant_neu, days=settings.trial_days),
                dispatch_grace=settings.dispatch_grace,
            ),
        )
        resolver = await open_resolver(
            stack,
            auth_addr=settings.auth_addr,
            platform_key=settings.platform_key(),
            tracer_provider=tracer_provider,
            timeout=settings.rpc_timeout,
            nc=nc,
        )
        grpc_server = await create_server(settings.grpc_listen, deps, resolver, tracer_provider)
        tasks = [
            asyncio.create_task(
                run_pull_consumer(js, consumers.consumer(deps), stop=stop, tracer=tracer), name="jobs-state"
            ),
            asyncio.create_task(
                run_sweeper(deps, interval=settings.sweep_interval, stop=stop),
                name="sweeper",
            ),
        ]
        await grpc_server.serving()
        on_ready(grpc_server.port)
        try:
            await until_stopped(stop, tasks)
        finally:
            stop.set()
            await grpc_server.stop()
            await finish(tasks)


def main() -> None:
    settings = Settings()
    configure_logging("jobs", settings.log_level)
    provider = configure_tracing("jobs", otlp_endpoint=settings.otlp_endpoint)
    try:
        run_until_signal(lambda stop: run(settings, tracer_provider=provider, stop=stop))
    finally:
        provider.shutdown()


if __name__ == "__main__":
    main()
