"""Runs the webhooks service: `python -m services.webhooks`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from contextlib import AsyncExitStack

import aiohttp
from opentelemetry.sdk.trace import TracerProvider

from services.common.auth_client import open_resolver
from services.common.db import open_database
from services.common.events import connect_nats, ensure_streams, run_pull_consumer
from services.common.lifecycle import finish, run_until_signal, until_stopped
from services.common.netguard import guarded_session
from services.common.secretbox import SecretBox
from services.common.telemetry import configure_logging, configure_tracing
from services.webhooks import consumers
from services.webhooks.config import Settings
from services.webhooks.dispatcher import Dispatcher
from services.webhooks.domain import Deps, Policy
from services.webhooks.models import WebhooksTable
from services.webhooks.server import create_server


async def run(
    settings: Settings,
    *,
    tracer_provider: TracerProvider,
    stop: asyncio.Event,
    on_ready: Callable[[int], None] = lambda _port: None,
) -> None:
    """Serves RPCs, takes in job events and delivers them until `stop` is set."""
    tracer = tracer_provider.get_tracer("vidkiln.webhooks")
    async with AsyncExitStack() as stack:
        sessions = await stack.enter_async_context(
            open_database(settings.database_url_for("webhooks"), WebhooksTable.metadata)
        )
        http = await stack.enter_async_context(
            guarded_session(
                settings.address_policy(),
                timeout=aiohttp.ClientTimeout(total=settings.webhook_timeout),
                auto_decompress=False,
            )
        )
        base = Deps(
            sessions=sessions,
            box=SecretBox(settings.platform_key()),
            addresses=settings.address_policy(),
            policy=Policy(
                max_subscriptions=settings.webhook_max_per_account,
                retry_schedule=tuple(settings.webhook_retry_schedule),
                public_url=settings.public_url,
            ),
        )
        dispatcher = Dispatcher(
            base,
            http,
            tracer,
            per_subscription=settings.webhook_per_subscription,
            concurrency=settings.webhook_concurrency,
            timeout=settings.webhook_timeout,
        )
        deps = dataclasses.replace(base, wake=dispatcher.wake)
        nc = await connect_nats(settings.nats_url, name="webhooks")
        stack.push_async_callback(nc.drain)
        js = nc.jetstream()
        await ensure_streams(js)
        resolver = await open_resolver(
            stack,
            auth_addr=settings.auth_addr,
            platform_key=settings.platform_key(),
            tracer_provider=tracer_provider,
            timeout=settings.rpc_timeout,
            nc=nc,
        )
        grpc_server = await create_server(settings.grpc_listen, deps, dispatcher, resolver, tracer_provider)
        tasks = [
            asyncio.create_task(
                run_pull_consumer(js, consumers.consumer(deps), stop=stop, tracer=tracer), name="webhooks-intake"
            ),
            asyncio.create_task(dispatcher.run(stop), name="webhooks-dispatcher"),
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
    configure_logging("webhooks", settings.log_level)
    provider = configure_tracing("webhooks", otlp_endpoint=settings.otlp_endpoint)
    try:
        run_until_signal(lambda stop: run(settings, tracer_provider=provider, stop=stop))
    finally:
        provider.shutdown()


if __name__ == "__main__":
    main()
