"""Fixtures on real parts: nats-server, PostgreSQL when configured, PyAV clips, HTTP sources."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.__main__ import run as run_gateway
from gateway.config import Settings as GatewaySettings
from services.auth.__main__ import run as run_auth
from services.auth.config import Settings as AuthSettings
from services.auth.domain import Deps as AuthDeps
from services.auth.domain import bootstrap_admin
from services.auth.models import AuthTable
from services.common.db import open_database
from services.common.identity import TokenSigner
from services.encoder.__main__ import run as run_encoder
from services.encoder.config import Settings as EncoderSettings
from services.ingest.__main__ import run as run_ingest
from services.ingest.config import Settings as IngestSettings
from services.jobs.__main__ import run as run_jobs
from services.jobs.config import Settings as JobsSettings
from services.webhooks.__main__ import run as run_webhooks
from services.webhooks.config import Settings as WebhooksSettings
from tests.harness import SECRET, NatsServer, Platform
from tests.media import audio_only, synthesize

PG_URL = os.environ.get("VIDKILN_TEST_DATABASE_URL")
# Tests poll fast; only the rate-limit tests run with the real limits.
GENEROUS_LIMITS: dict[str, Any] = {
    "rate_limit_per_minute": 100_000,
    "rate_limit_encode_per_minute": 10_000,
    "rate_limit_account_per_minute": 100_000,
    "rate_limit_encode_account_per_minute": 10_000,
}
DATABASES = ["sqlite", "postgres"] if PG_URL else ["sqlite"]


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh nats-server with JetStream for each test."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=DATABASES)
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """None (each service's SQLite file, the embedded default) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    assert PG_URL is not None
    admin_dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"vk_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(spans: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    yield provider
    provider.shutdown()


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Synthesized once per session: a 1080p clip with audio, one without, audio only, not a video."""
    root = tmp_path_factory.mktemp("clips")
    (root / "notes.txt").write_text("This is plain text, not a video.\n" * 200)
    return {
        "hd": synthesize(root / "hd.mp4", seconds=2.0),
        "silent": synthesize(root / "silent.mp4", width=640, height=360, seconds=1.0, audio=False),
        "audio": audio_only(root / "tone.m4a"),
        "text": root / "notes.txt",
    }


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough (at 1080p) that an encode can be interrupted in the middle."""
    return synthesize(tmp_path_factory.mktemp("long") / "long.mp4", seconds=6.0)


@pytest.fixture
async def source_server(clips: dict[str, Path], long_clip: Path) -> AsyncIterator[str]:
    """An HTTP server for sources: the clips under /media/ (HEAD and Range work), and an HTML page."""

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text="<html><body>not a video</body></html>", content_type="text/html")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def disguised(_request: web.Request) -> web.Response:
        """Text a server labels as binary: it passes the checks at submit and fails the probe."""
        return web.Response(body=clips["text"].read_bytes(), content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/redirect", redirect)
    app.router.add_static("/media/", clips["hd"].parent)
    app.router.add_static("/long/", long_clip.parent)
    app.router.add_get("/page.html", page)
    app.router.add_get("/disguised.mp4", disguised)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def start_platform(
    tmp_path: Path,
    nats: NatsServer,
    database_url: str | None,
    provider: TracerProvider,
    *,
    encoder: bool = True,
    jobs_process: bool = False,
    gateway_settings: dict[str, Any] | None = None,
    webhooks_settings: dict[str, Any] | None = None,
    webhooks_env: dict[str, str] | None = None,
) -> Platform:
    """Auth, ingest, jobs, (an encoder) and the gateway in dependency order, all in this process
    except jobs when `jobs_process` (then it can be killed and restarted)."""
    platform = Platform(data_dir=tmp_path / "data", nats=nats, database_url=database_url, provider=provider)
    platform.data_dir.mkdir()
    async with open_database(platform.auth_db_url, AuthTable.metadata) as sessions:
        admin = await bootstrap_admin(AuthDeps(sessions=sessions, signer=TokenSigner(SECRET.encode())))
    assert admin is not None
    platform.admin_key = admin.raw
    try:
        await platform.add("auth", run_auth, AuthSettings)
        await platform.add("ingest", run_ingest, IngestSettings)
        if webhooks_env is not None:  # its own process, so it can be killed and restarted
            await platform.add_process("webhooks", **webhooks_env)
        else:
            await platform.add("webhooks", run_webhooks, WebhooksSettings, **(webhooks_settings or {}))
        if jobs_process:
            await platform.add_process("jobs", VIDKILN_SWEEP_INTERVAL="1", VIDKILN_DISPATCH_GRACE="1")
        else:
            await platform.add("jobs", run_jobs, JobsSettings, sweep_interval=1.0, dispatch_grace=1.0)
        if encoder:
            await platform.add("encoder", run_encoder, EncoderSettings)
        gateway = await platform.add(
            "gateway", run_gateway, GatewaySettings, http_port=0, **(gateway_settings or GENEROUS_LIMITS)
        )
    except BaseException:
        await platform.stack.aclose()
        raise
    platform.base_url = f"http://127.0.0.1:{gateway.port}"
    return platform


@pytest.fixture
async def platform(
    tmp_path: Path, nats: NatsServer, database_url: str | None, tracer_provider: TracerProvider
) -> AsyncIterator[Platform]:
    """The whole platform in-process, on the parametrized database."""
    started = await start_platform(tmp_path, nats, database_url, tracer_provider)
    async with started.stack:
        yield started
