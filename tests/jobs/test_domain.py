"""Jobs use cases against a real database and a real JetStream: dispatch, idempotent events, sweeping."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import col, select

from protos.jobs.v1 import events_pb2, jobs_pb2
from services.common import subjects
from services.common.clock import utcnow
from services.common.errors import InvalidArgument, NotFound
from services.common.identity import Principal
from services.jobs import domain, outbox, protomap, repository
from services.jobs.models import Job, JobLog, OutboxEvent
from services.jobs.states import JobState
from tests.jobs.conftest import ALL, Env


async def stored(env: Env, job_id: str) -> Job:
    async with env.deps.sessions.begin() as session:
        job = await repository.get_job(session=session, job_id=uuid.UUID(job_id))
    assert job is not None
    return job


async def logs(env: Env, job_id: str) -> list[str]:
    async with env.deps.sessions.begin() as session:
        rows = await session.exec(select(JobLog).where(JobLog.job_id == uuid.UUID(job_id)).order_by(col(JobLog.id)))
        return [r.message for r in rows.all()]


def me() -> Principal:
    return Principal(account_id=uuid.uuid4(), scopes=ALL)


async def test_create_probes_prices_reserves_and_dispatches(env: Env) -> None:
    job = await env.create(me(), resolution="720p")
    assert job.status == jobs_pb2.JOB_STATUS_QUEUED
    assert job.source_filename == "hd.mp4" and job.output_filename == "hd-720p.mp4"
    # 2 s at 720p h264: 2 NEU a minute x 1.5 on demand x 2/60 min -> 1 NEU (the minimum).
    assert (job.estimate.total_neu, job.estimate.reserved, round(job.estimate.duration_sec)) == (1, 1, 2)
    row = await stored(env, job.id)
    assert row.dispatched_at is not None and row.published and row.options["codec"] == "h264"
    assert await env.messages(subjects.TASKS_STREAM, subjects.TASK_ENCODE) == 1
    assert await env.messages(subjects.EVENTS_STREAM, subjects.JOB_STATE_CHANGED) == 2  # created, queued


async def test_create_refuses_bad_options_at_once(env: Env) -> None:
    with pytest.raises(InvalidArgument) as bad:
        await env.create(me(), codec="mpeg2", preset="ludicrous")
    assert [v.field for v in bad.value.violations] == ["codec", "preset"]
    with pytest.raises(InvalidArgument):
        await domain.create_job(
            env.deps,
            principal=me(),
            request=domain.new_job(options={}, source=None, metadata_json="[1]"),
        )
    assert await env.messages(subjects.TASKS_STREAM, subjects.TASK_ENCODE) == 0


async def test_events_are_applied_once_and_replays_are_no_ops(env: Env) -> None:
    job = await env.create(me())
    job_id, now = uuid.UUID(job.id), utcnow()
    for _ in range(2):
        await domain.apply_started(env.deps, job_id=job_id, attempt=1, at=now)
    await domain.apply_progress(env.deps, job_id=job_id, attempt=1, progress=42.0)
    running = await stored(env, job.id)
    assert (running.status, running.progress, running.attempt) == ("running", 42.0, 1)

    poster = {"key": "outputs/x/poster-small.jpg", "size_bytes": "812", "content_type": "image/jpeg"}
    output = domain.Output("outputs/x/output.mp4", 1234, "video/mp4", thumbnails=(poster,), passes=2)
    for _ in range(2):
        await domain.apply_succeeded(
            env.deps,
            job_id=job_id,
            attempt=1,
            output=output,
            source_probe={"duration_sec": 120.0, "width": 1920},
            output_probe={"width": 1280},
            encoder="libx264",
            at=now + timedelta(seconds=3),
        )
    await domain.apply_progress(env.deps, job_id=job_id, attempt=1, progress=50.0)  # late: ignored
    await domain.apply_failed(env.deps, job_id=job_id, attempt=1, reason="ENCODE_FAILED", message="x", at=now)
    done = await stored(env, job.id)
    assert (done.status, done.progress, done.output_size, done.failure_reason) == ("succeeded", 100.0, 1234, None)
    assert done.output_expires_at == now + timedelta(seconds=3 + 86400)
    # Charged once, for the real 2 minutes: 3 NEU a minute (1080p) x 1.5 on demand x 2 min = 9.
    assert (done.charged_neu, done.reserved_neu) == (9, 0)
    as_proto = protomap.job_to_proto(done)
    assert (as_proto.thumbnails[0].size_bytes, as_proto.effective_passes) == (812, 2)
    assert await logs(env, job.id) == ["Job queued", "Encoding started", "Encoding finished"]
    # Each state change is published once (created, queued, running, 40 %, succeeded), however often it
    # was applied.
    assert await env.messages(subjects.EVENTS_STREAM, subjects.JOB_STATE_CHANGED) == 5


async def test_a_redelivered_task_restarts_progress(env: Env) -> None:
    job = await env.create(me())
    job_id = uuid.UUID(job.id)
    await domain.apply_started(env.deps, job_id=job_id, attempt=1, at=utcnow())
    await domain.apply_progress(env.deps, job_id=job_id, attempt=1, progress=60.0)
    await domain.apply_started(env.deps, job_id=job_id, attempt=2, at=utcnow())
    await domain.apply_progress(env.deps, job_id=job_id, attempt=1, progress=70.0)  # the dead worker's last word
    row = await stored(env, job.id)
    assert (row.status, row.attempt, row.progress) == ("running", 2, 0.0)
    assert (await logs(env, job.id))[-1] == "Encoding restarted (attempt 2)"


async def test_failure_is_recorded_with_its_reason_and_releases_credits(env: Env) -> None:
    principal = me()
    job = await env.create(principal)
    await domain.apply_failed(
        env.deps, job_id=uuid.UUID(job.id), attempt=1, reason="PROBE_FAILED", message="not a video", at=utcnow()
    )
    row = await stored(env, job.id)
    assert (row.status, row.failure_reason, row.failure_message) == ("failed", "PROBE_FAILED", "not a video")
    balance = await domain.get_balance(env.deps, principal=principal)
    assert (balance.available, balance.reserved) == (600, 0)


async def test_the_sweeper_publishes_a_claim_whose_publish_never_happened(env: Env) -> None:
    created = utcnow() - timedelta(seconds=30)
    job = Job(
        account_id=uuid.uuid4(),
        status=JobState.QUEUED.value,
        options={"codec": "h264", "resolution": "720p", "container": "mp4"},
        source_url="http://example.com/a.mp4",
        output_key="outputs/a/output.mp4",
        output_filename="a-720p.mp4",
        created_at=created,
        queued_at=created,
        dispatched_at=created,  # claimed by the scheduler, then the process died before publishing
        updated_at=created,
    )
    async with env.deps.sessions.begin() as session:
        session.add(job)
    assert await domain.sweep(env.deps) == 1
    assert await env.messages(subjects.TASKS_STREAM, subjects.TASK_ENCODE) == 1
    assert (await stored(env, str(job.id))).published
    assert await domain.sweep(env.deps) == 0


async def test_a_state_change_committed_without_its_publish_is_published_by_the_sweeper(env: Env) -> None:
    job = await env.create(me())
    job_id = uuid.UUID(job.id)
    async with env.deps.sessions.begin() as session:  # the process dies right after this commit
        row = await session.get(Job, job_id)
        assert row is not None
        before = outbox.snapshot(row)
        row.status = JobState.RUNNING.value
        outbox.stage(session, row, before)  # as a use case stages its change
    async with env.deps.sessions.begin() as session:
        staged = (await session.exec(select(OutboxEvent))).all()
        assert [r.msg_id for r in staged] == [f"state:{job_id}:running"]
        for r in staged:
            r.created_at -= timedelta(seconds=30)  # older than the grace period
            session.add(r)
    await domain.sweep(env.deps)
    assert await env.messages(subjects.EVENTS_STREAM, subjects.JOB_STATE_CHANGED) == 3  # created, queued, running
    async with env.deps.sessions() as session:
        assert (await session.exec(select(OutboxEvent))).all() == []


async def test_jobs_are_private_to_their_account(env: Env) -> None:
    owner, other = me(), me()
    job = await env.create(owner)
    assert (await domain.get_job(env.deps, principal=owner, job_id=job.id)).id == uuid.UUID(job.id)
    for principal, job_id in ((other, job.id), (owner, str(uuid.uuid4())), (owner, "not-a-uuid")):
        with pytest.raises(NotFound):
            await domain.get_job(env.deps, principal=principal, job_id=job_id)
    mine, total, _ = await domain.list_jobs(env.deps, principal=owner, page=1, page_size=10, filters=domain.Filters())
    assert total == 1 and [str(j.id) for j in mine] == [job.id]
    theirs, total, _ = await domain.list_jobs(env.deps, principal=other, page=1, page_size=10, filters=domain.Filters())
    assert total == 0 and not theirs
    with pytest.raises(NotFound):
        await domain.cancel_job(env.deps, principal=other, job_id=job.id)


async def test_cancel_commits_releases_announces_and_is_idempotent(env: Env) -> None:
    principal = me()
    job = await env.create(principal)
    canceled, changed, note, released = await domain.cancel_job(env.deps, principal=principal, job_id=job.id)
    assert (canceled.status, changed, note, released) == ("canceled", True, "", 1)
    kv = await env.js.key_value(subjects.CANCELED_BUCKET)
    assert (await kv.get(job.id)).value == b"1"
    again, changed, note, released = await domain.cancel_job(env.deps, principal=principal, job_id=job.id)
    assert (again.status, changed, released) == ("canceled", False, 0)
    assert note == "The job had already been canceled; nothing was canceled."
    await domain.apply_succeeded(  # a late success from a worker cannot resurrect it, nor charge it
        env.deps,
        job_id=uuid.UUID(job.id),
        attempt=1,
        output=domain.Output("k", 1, "video/mp4"),
        source_probe={},
        output_probe={},
        encoder="libx264",
        at=utcnow(),
    )
    row = await stored(env, job.id)
    assert (row.status, row.charged_neu) == ("canceled", None)
    assert (await domain.get_balance(env.deps, principal=principal)).available == 600


def test_task_payload_is_the_contract() -> None:
    task = events_pb2.EncodeRequested(job_id="j", output_key="outputs/j/output.mp4")
    assert events_pb2.EncodeRequested.FromString(task.SerializeToString()) == task
