"""The jobs use cases wired to a real database, a real JetStream and the real ingest code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider

from protos.common.v1 import storage_pb2
from protos.jobs.v1 import jobs_pb2
from services.common.blobstore import LocalBlobStore
from services.common.cancel import CancelSignals
from services.common.config import BaseServiceSettings
from services.common.db import open_database
from services.common.events import Publisher, connect_nats, ensure_streams
from services.common.identity import Principal
from services.common.netguard import AddressPolicy
from services.ingest import domain as ingest
from services.jobs import domain
from services.jobs.domain.credits import TrialPolicy
from services.jobs.models import JobsTable
from tests.harness import NatsServer

ALL = frozenset({"jobs:create", "jobs:read", "jobs:cancel", "tokens:read", "tokens:write"})


@dataclass
class Env:
    deps: domain.Deps
    js: JetStreamContext
    source: str  # a 2 s 1080p clip with audio
    blobs: LocalBlobStore

    async def create(
        self,
        principal: Principal,
        *,
        source: str | None = None,
        idem: domain.Idem | None = None,
        priority: str = "",
        **options: object,
    ) -> jobs_pb2.Job:
        request = domain.new_job(
            options=options, source=storage_pb2.Source(url=source or self.source), priority=priority
        )
        return await domain.create_job(self.deps, principal=principal, request=request, idem=idem)

    async def messages(self, stream: str, subject: str) -> int:
        info = await self.js.stream_info(stream, subjects_filter=subject)
        return (info.state.subjects or {}).get(subject, 0)


def make_policy(*, cap: int = 4, trial: int = 600) -> domain.Policy:
    return domain.Policy(max_running_per_account=cap, trial=TrialPolicy(grant=trial, days=30), dispatch_grace=5.0)


@pytest.fixture
def policy() -> domain.Policy:
    return make_policy()


@pytest.fixture
async def env(
    tmp_path: Path,
    nats: NatsServer,
    database_url: str | None,
    tracer_provider: TracerProvider,
    source_server: str,
    policy: domain.Policy,
) -> AsyncIterator[Env]:
    settings = BaseServiceSettings(data_dir=tmp_path, database_url=database_url)
    nc = await connect_nats(nats.url, name="test")
    js = nc.jetstream()
    await ensure_streams(js)
    blobs = LocalBlobStore(settings.blob_dir)
    async with (
        aiohttp.ClientSession() as http,
        open_database(settings.database_url_for("jobs"), JobsTable.metadata) as sessions,
    ):
        ingest_deps = ingest.Deps(http=http, blobs=blobs, policy=AddressPolicy.from_setting("127.0.0.1"))

        async def inspect_source(source: storage_pb2.Source, probe: bool) -> domain.SourceInfo:
            found = await ingest.validate_source(ingest_deps, source=source, probe=probe)
            return domain.SourceInfo(found.filename, found.size, found.probe, found.probe_error)

        async def delete_objects(keys: Sequence[str]) -> int:
            return await asyncio.to_thread(blobs.delete_many, keys)

        cancels = await CancelSignals.open(nc, js)
        deps = domain.Deps(
            sessions=sessions,
            publisher=Publisher(js, tracer_provider.get_tracer("t")),
            inspect_source=inspect_source,
            announce_cancel=cancels.announce,
            delete_objects=delete_objects,
            policy=policy,
        )
        yield Env(deps, js, f"{source_server}/media/hd.mp4", blobs)
    await nc.close()
