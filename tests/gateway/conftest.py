"""The platform without an encoder: what the edge tests call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

from tests.conftest import start_platform
from tests.harness import NatsServer, Platform


@pytest.fixture
async def edge(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    started = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with started.stack:
        yield started
