"""Runs an encoder worker: `python -m services.encoder`."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from contextlib import AsyncExitStack

from opentelemetry.sdk.trace import TracerProvider

from services.common.auth_client import open_resolver
from services.common.cancel import CancelSignals
from services.common.events import Publisher, connect_nats, ensure_streams, run_pull_consumer
from services.common.http_source import client_timeout
from services.common.lifecycle import finish, run_until_signal, until_stopped
from services.common.netguard import guarded_session
from services.common.telemetry import configure_logging, configure_tracing
from services.encoder import consumers
from services.encoder.config import Settings
from services.encoder.domain import Deps, Running
from services.encoder.isolation import warm_up
from services.encoder.server import create_server

logger = logging.getLogger(__name__)


async def run(
    settings: Settings,
    *,
    tracer_provider: TracerProvider,
    stop: asyncio.Event,
    on_ready: Callable[[int], None] = lambda _port: None,
) -> None:
    """Pulls and encodes tasks until `stop` is set; a running encode is handed back to the queue."""
    tracer = tracer_provider.get_tracer("vidkiln.encoder")
    async with AsyncExitStack() as stack:
        deadlines = settings.deadlines()
        # The download step's watch ends a silent source at its deadline; the socket's own limit only backs it up.
        timeout = client_timeout(read=deadlines.download + 5)
        http = await stack.enter_async_context(guarded_session(settings.address_policy(), timeout=timeout))
        nc = await connect_nats(settings.nats_url, name=f"encoder-{settings.worker_id}")
        stack.push_async_callback(nc.drain)
        js = nc.jetstream()
        await ensure_streams(js)
        settings.scratch.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(warm_up)
        cancels = await CancelSignals.open(nc, js)
        running = Running()
        await cancels.listen(running.cancel)
        deps = Deps(
            publisher=Publisher(js, tracer, timeout=deadlines.publish),
            http=http,
            blobs=settings.blob_store(),
            scratch=settings.scratch,
            worker_id=settings.worker_id,
            max_source_bytes=settings.max_source_bytes,
            stop=stop,
            tracer=tracer,
            cancels=cancels,
            running=running,
            deadlines=deadlines,
            opener=settings.destination_opener(),
        )
        logger.info(
            "encoder %s started (%d tasks at once); job logs show it as %s",
            deps.worker_id,
            settings.encoder_concurrency,
            deps.worker_alias,
        )
        spec = consumers.consumer(
            deps,
            ack_wait=settings.task_ack_wait,
            max_deliver=settings.task_max_deliver,
            concurrency=settings.encoder_concurrency,
        )
        resolver = await open_resolver(
            stack,
            auth_addr=settings.auth_addr,
            platform_key=settings.platform_key(),
            tracer_provider=tracer_provider,
            timeout=settings.rpc_timeout,
            nc=nc,
        )
        grpc_server = await create_server(settings.grpc_listen, resolver, tracer_provider)
        tasks = [asyncio.create_task(run_pull_consumer(js, spec, stop=stop, tracer=tracer), name="encoder")]
        await grpc_server.serving()
        on_ready(grpc_server.port)
        try:
            await until_stopped(stop, tasks)
        finally:
            stop.set()
            await grpc_server.stop()
            await finish(tasks)


def main() -> None:
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its configuration and notes otherwise
    settings = Settings()
    configure_logging("encoder", settings.log_level)
    provider = configure_tracing("encoder", otlp_endpoint=settings.otlp_endpoint)
    try:
        run_until_signal(lambda stop: run(settings, tracer_provider=provider, stop=stop))
    finally:
        provider.shutdown()


if __name__ == "__main__":
    main()
