"""Runs the ingest service: `python -m services.ingest`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

from opentelemetry.sdk.trace import TracerProvider

from services.common.auth_client import open_resolver
from services.common.db import open_database
from services.common.http_source import client_timeout
from services.common.lifecycle import run_until_signal
from services.common.netguard import guarded_session
from services.common.secretbox import SecretBox
from services.common.telemetry import configure_logging, configure_tracing
from services.ingest.config import Settings
from services.ingest.credentials.domain import CredentialDeps
from services.ingest.domain import Deps
from services.ingest.files import storage
from services.ingest.files.deps import FileDeps
from services.ingest.models import IngestTable
from services.ingest.server import create_server


async def run(
    settings: Settings,
    *,
    tracer_provider: TracerProvider,
    stop: asyncio.Event,
    on_ready: Callable[[int], None] = lambda _port: None,
) -> None:
    """Serves until `stop` is set."""
    timeout = client_timeout(settings.source_connect_timeout, settings.source_read_timeout)
    async with AsyncExitStack() as stack:
        sessions = await stack.enter_async_context(
            open_database(settings.database_url_for("ingest"), IngestTable.metadata)
        )
        blobs = settings.blob_store()
        await asyncio.to_thread(storage.sweep, blobs, older_than=timedelta(hours=1), now=datetime.now(UTC))
        files = FileDeps(sessions=sessions, blobs=blobs, sealer=storage.seal_signer(settings.platform_key()))
        stack.callback(files.media_threads.shutdown, wait=False, cancel_futures=True)
        http = await stack.enter_async_context(guarded_session(settings.address_policy(), timeout=timeout))
        resolver = await open_resolver(
            stack,
            auth_addr=settings.auth_addr,
            platform_key=settings.platform_key(),
            tracer_provider=tracer_provider,
            timeout=settings.rpc_timeout,
        )
        grpc_server = await create_server(
            settings.grpc_listen,
            Deps(
                http=http,
                blobs=blobs,
                policy=settings.address_policy(),
                max_source_bytes=settings.max_source_bytes,
                unranged_probe_bytes=settings.unranged_probe_bytes,
                unranged_probe_seconds=settings.unranged_probe_seconds,
                opener=settings.destination_opener(),
            ),
            resolver,
            tracer_provider,
            files,
            CredentialDeps(sessions=sessions, box=SecretBox(settings.platform_key())),
        )
        await grpc_server.serving()
        on_ready(grpc_server.port)
        await stop.wait()
        await grpc_server.stop()


def main() -> None:
    settings = Settings()
    configure_logging("ingest", settings.log_level)
    provider = configure_tracing("ingest", otlp_endpoint=settings.otlp_endpoint)
    try:
        run_until_signal(lambda stop: run(settings, tracer_provider=provider, stop=stop))
    finally:
        provider.shutdown()


if __name__ == "__main__":
    main()
