"""A live platform for the SDK's tests: the SDK talks to a real gateway over HTTP, never to mocks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

from tests.conftest import start_platform
from tests.harness import NatsServer, Platform


@pytest.fixture
async def bare(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    """Every service but the encoder: jobs are created and queued, never encoded."""
    platform = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with platform.stack:
        yield platform


@pytest.fixture
async def encoding(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    """The whole platform, an encoder included."""
    platform = await start_platform(tmp_path, nats, None, tracer_provider, encoder=True)
    async with platform.stack:
        yield platform
