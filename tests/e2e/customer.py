"""Fixtures for tests of customer storage: a local Drive v3 server, and the platform pointed at it.

A test module imports them (`from tests.e2e.customer import customer_platform, drive_fixture  # noqa: F401`), its
`platform` then replacing the plain one; moto's `fake_s3` comes from tests.fakes.s3 the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

from tests.conftest import start_platform
from tests.fakes.drive import DriveFake, running_drive
from tests.harness import NatsServer, Platform


@pytest.fixture(name="drive")
def drive_fixture() -> Iterator[DriveFake]:
    with running_drive() as fake:
        yield fake


@pytest.fixture(name="platform")
async def customer_platform(
    tmp_path: Path,
    nats: NatsServer,
    database_url: str | None,
    tracer_provider: TracerProvider,
    drive: DriveFake,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Platform]:
    """The whole platform, its Drive client pointed at `drive`."""
    monkeypatch.setenv("VIDKILN_GOOGLE_API_ROOT", drive.root)
    monkeypatch.setenv("VIDKILN_GOOGLE_TOKEN_URI", drive.token_uri)
    started = await start_platform(tmp_path, nats, database_url, tracer_provider)
    async with started.stack:
        yield started
