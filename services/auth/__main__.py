"""Runs the auth service: `python -m services.auth`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import timedelta

from opentelemetry.sdk.trace import TracerProvider

from protos.auth.v1 import events_pb2
from services.auth import domain
from services.auth.config import Settings
from services.auth.models import AuthTable
from services.auth.server import create_server
from services.common import subjects
from services.common.credentials import CredentialResolver
from services.common.db import open_database
from services.common.events import connect_nats
from services.common.identity import Principal, TokenSigner
from services.common.lifecycle import run_until_signal
from services.common.telemetry import configure_logging, configure_tracing


async def run(
    settings: Settings,
    *,
    tracer_provider: TracerProvider,
    stop: asyncio.Event,
    on_ready: Callable[[int], None] = lambda _port: None,
) -> None:
    """Serves until `stop` is set."""
    signer = TokenSigner(settings.platform_key(), ttl=timedelta(seconds=settings.token_ttl_seconds))
    async with AsyncExitStack() as stack:
        sessions = await stack.enter_async_context(open_database(settings.database_url_for("auth"), AuthTable.metadata))
        nc = await connect_nats(settings.nats_url, name="auth")
        stack.push_async_callback(nc.drain)

        async def lookup(credential: str) -> tuple[Principal, str, float]:
            principal, token, expires = await domain.authenticate(deps, credential=credential)
            return principal, token, expires.timestamp()

        resolver = CredentialResolver(signer, lookup)
        await resolver.listen(nc)

        # Auth's own cache drops a revoked credential before the use case returns (not when the
        # broadcast comes back round), so the next call to auth itself is refused for certain.
        async def announce_revoked(key_id: str) -> None:
            resolver.revoked(uuid.UUID(key_id))
            await nc.publish(subjects.KEY_REVOKED, events_pb2.KeyRevoked(key_id=key_id).SerializeToString())
            await nc.flush()

        async def announce_session_revoked(session_id: str) -> None:
            resolver.session_revoked(uuid.UUID(session_id))
            message = events_pb2.SessionRevoked(session_id=session_id)
            await nc.publish(subjects.SESSION_REVOKED, message.SerializeToString())
            await nc.flush()

        deps = domain.Deps(
            sessions=sessions,
            signer=signer,
            announce_revoked=announce_revoked,
            announce_session_revoked=announce_session_revoked,
            access_ttl=timedelta(minutes=settings.access_token_minutes),
            refresh_ttl=timedelta(days=settings.refresh_token_days),
        )
        grpc_server = await create_server(settings.grpc_listen, deps, resolver, tracer_provider)
        await grpc_server.serving()
        on_ready(grpc_server.port)
        await stop.wait()
        await grpc_server.stop()


def main() -> None:
    settings = Settings()
    configure_logging("auth", settings.log_level)
    provider = configure_tracing("auth", otlp_endpoint=settings.otlp_endpoint)
    try:
        run_until_signal(lambda stop: run(settings, tracer_provider=provider, stop=stop))
    finally:
        provider.shutdown()


if __name__ == "__main__":
    main()
