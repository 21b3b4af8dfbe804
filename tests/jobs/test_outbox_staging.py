"""A job's events are staged only by the use case that changes it, in its transaction (`outbox.stage`):
nothing watches the session, so a change made behind the use cases' back stages nothing."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from google.protobuf.message import Message
from sqlmodel import col, select

from protos.common.v1 import storage_pb2
from protos.jobs.v1 import events_pb2, jobs_pb2
from services.common.clock import utcnow
from services.common.identity import Principal
from services.jobs import domain
from services.jobs.models import Job, OutboxEvent
from services.jobs.states import JobState
from tests.jobs.conftest import ALL, Env


class _Down:
    """A NATS that refuses every publish: what a use case staged stays in the outbox to be looked at."""

    def __init__(self) -> None:
        self.tried: list[str] = []

    async def publish(self, subject: str, message: Message, *, msg_id: str) -> None:
        self.tried.append(msg_id)
        raise ConnectionError("NATS is down")


def me() -> Principal:
    return Principal(account_id=uuid.uuid4(), scopes=ALL)


async def staged(env: Env, job_id: uuid.UUID) -> list[events_pb2.JobStateChanged]:
    async with env.deps.sessions() as session:
        rows = await session.exec(select(OutboxEvent).where(OutboxEvent.job_id == job_id).order_by(col(OutboxEvent.id)))
        found = rows.all()
    assert all(r.msg_id == f"state:{events_pb2.JobStateChanged.FromString(r.payload).event_id}" for r in found)
    return [events_pb2.JobStateChanged.FromString(r.payload) for r in found]


async def row(env: Env, job_id: uuid.UUID) -> Job:
    async with env.deps.sessions() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job


def _sealed() -> bytes:
    return storage_pb2.Destination(
        s3=storage_pb2.S3Location(bucket="theirs", credentials="sealed-token")
    ).SerializeToString()


async def test_a_change_through_a_bare_session_stages_nothing(env: Env) -> None:
    job_id = uuid.UUID((await env.create(me())).id)
    assert await staged(env, job_id) == []  # created and queued were published, then removed
    before = await row(env, job_id)
    async with env.deps.sessions.begin() as session:  # no use case: no outbox.stage
        job = await session.get(Job, job_id)
        assert job is not None
        job.status, job.progress, job.destination = JobState.CANCELED.value, 50.0, _sealed()
        session.add(job)
    after = await row(env, job_id)
    assert after.status == JobState.CANCELED.value
    assert await staged(env, job_id) == []
    # Nor is anything else done behind the caller's back: updated_at stays, the credentials too.
    assert after.updated_at == before.updated_at
    assert storage_pb2.Destination.FromString(after.destination or b"").s3.credentials == "sealed-token"


async def test_each_use_case_stages_exactly_its_events(env: Env) -> None:
    down = _Down()
    deps = dataclasses.replace(env.deps, publisher=down)
    request = domain.new_job(options={}, source=storage_pb2.Source(url=env.source))
    created = await domain.create_job(deps, principal=me(), request=request)  # its publish fails quietly
    job_id = uuid.UUID(created.id)
    ids = [f"{job_id}:created", f"{job_id}:queued"]
    assert [e.event_id for e in await staged(env, job_id)] == ids

    with pytest.raises(ConnectionError):
        await domain.apply_started(deps, job_id=job_id, attempt=1, at=utcnow())
    for progress in (5.0, 15.0, 12.0):  # only 15 reaches another ten percent
        try:
            await domain.apply_progress(deps, job_id=job_id, attempt=1, progress=progress)
        except ConnectionError:
            assert progress == 15.0
    async with env.deps.sessions.begin() as session:  # a customer bucket, to see the end forget its keys
        job = await session.get(Job, job_id)
        assert job is not None
        job.destination = _sealed()
        session.add(job)

    async def succeed() -> None:
        output = domain.Output("outputs/x/output.mp4", 10, "video/mp4")
        await domain.apply_succeeded(
            deps, job_id=job_id, attempt=1, output=output, source_probe={}, output_probe={}, encoder="x", at=utcnow()
        )

    with pytest.raises(ConnectionError):
        await succeed()
    tries = len(down.tried)
    with pytest.raises(ConnectionError):  # a replay: published again, staged no second time
        await succeed()
    assert len(down.tried) == tries + 1

    events = await staged(env, job_id)
    ids += [f"{job_id}:running", f"{job_id}:running:1", f"{job_id}:succeeded"]
    assert [e.event_id for e in events] == ids
    succeeded = events[-1]
    assert succeeded.previous_status == jobs_pb2.JOB_STATUS_RUNNING
    # Staged once the change was complete: charged, and with the job's updated_at as committed.
    assert succeeded.job.charged_neu == 1 and succeeded.job.status == jobs_pb2.JOB_STATUS_SUCCEEDED
    final = await row(env, job_id)
    assert succeeded.job.updated_at.ToDatetime(tzinfo=final.updated_at.tzinfo) == final.updated_at
    assert storage_pb2.Destination.FromString(final.destination or b"").s3 == storage_pb2.S3Location(bucket="theirs")
