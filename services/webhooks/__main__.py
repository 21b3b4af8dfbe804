"""Runs the webhooks service: `python -m services.webhooks`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack

from opentelemetry.sdk.trace import TracerProvider

from services.common.auth_client import open_resolver
from services.common.events import connect_nats, ensure_streams
from services.common.lifecycle import run_until_signal
from services.common.telemetry import configure_logging, configure_tracing
from services.webhooks.config import Settings
from services.webhooks.server import create_server


async def run(
    settings: Settings,
    *,
    tracer_provider: TracerProvider,
    stop: asyncio.Event,
    on_ready: Callable[[int], None] = lambda _port: None,
) -> None:
    """Serves health until `stop` is set (SERVING once NATS, its future event source, is up)."""
    async with AsyncExitStack() as stack:
        nc = await connect_nats(settings.nats_url, name="webhooks")
        stack.push_async_callback(nc.drain)
        await ensure_streams(nc.jetstream())
        resolver = await open_resolver(
            stack,
            auth_addr=settings.auth_addr,
            platform_key=settings.platform_key(),
            tracer_provider=tracer_provider,
            timeout=settings.rpc_timeout,
            nc=nc,
        )
        grpc_server = await create_server(settings.grpc_listen, resolver, tracer_provider)
        await grpc_server.serving()
        on_ready(grpc_server.port)
        await stop.wait()
        await grpc_server.stop()


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
