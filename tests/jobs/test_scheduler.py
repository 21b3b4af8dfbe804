"""Scheduling: a cap per account at the workers, high priority first, one account never starves
another."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from services.common.clock import utcnow
from services.common.identity import Principal
from services.jobs import domain, repository
from tests.jobs.conftest import ALL, Env, make_policy


async def dispatched(env: Env, job_id: str) -> datetime | None:
    async with env.deps.sessions.begin() as session:
        job = await repository.get_job(session=session, job_id=uuid.UUID(job_id))
    assert job is not None
    return job.dispatched_at


@pytest.mark.parametrize("policy", [make_policy(cap=2)])
async def test_a_big_batch_does_not_starve_another_account(env: Env) -> None:
    batch, single = Principal(uuid.uuid4(), ALL), Principal(uuid.uuid4(), ALL)
    jobs = [await env.create(batch) for _ in range(6)]
    mine = await env.create(single)
    assert [await dispatched(env, j.id) is not None for j in jobs] == [True, True, False, False, False, False]
    assert await dispatched(env, mine.id) is not None  # at the workers at once, not behind the batch
    # One of the batch finishes: its slot goes to the batch's next job, in order.
    await domain.apply_failed(
        env.deps, job_id=uuid.UUID(jobs[0].id), attempt=1, reason="ENCODE_FAILED", message="x", at=utcnow()
    )
    assert await dispatched(env, jobs[2].id) is not None and await dispatched(env, jobs[3].id) is None


@pytest.mark.parametrize("policy", [make_policy(cap=1)])
async def test_high_priority_goes_first_within_an_account(env: Env) -> None:
    principal = Principal(uuid.uuid4(), ALL)
    first = await env.create(principal)
    normal = await env.create(principal)
    urgent = await env.create(principal, priority="high")
    assert await dispatched(env, first.id) is not None
    await domain.cancel_job(env.deps, principal=principal, job_id=first.id)
    assert await dispatched(env, urgent.id) is not None and await dispatched(env, normal.id) is None
