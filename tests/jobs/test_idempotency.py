"""Idempotency-Key: the first answer replayed for 24 hours, conflicts refused, claims taken over."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from unittest import mock

import pytest

from services.common.clock import utcnow
from services.common.errors import Conflict, InvalidArgument, R
from services.common.identity import Principal
from services.jobs import domain
from services.jobs.domain import idempotency
from tests.jobs.conftest import ALL, Env


def key(request_hash: str = "a" * 64, name: str = "k-1") -> domain.Idem:
    return domain.Idem(key=name, route="ondemand.encode", request_hash=request_hash)


async def test_a_repeat_gets_the_first_answer_and_creates_nothing(env: Env) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    first = await env.create(principal, idem=key())
    again = await env.create(principal, idem=key())
    assert again == first
    _, total, _ = await domain.list_jobs(env.deps, principal=principal, page=1, page_size=10, filters=domain.Filters())
    assert total == 1
    assert (await domain.get_balance(env.deps, principal=principal)).reserved == 1  # reserved once
    with pytest.raises(Conflict) as conflict:
        await env.create(principal, idem=key("b" * 64))
    assert conflict.value.reason == R.IDEMPOTENCY_CONFLICT
    # Keys belong to an account: another account's same key is a new request.
    other = Principal(account_id=uuid.uuid4(), scopes=ALL)
    assert (await env.create(other, idem=key())).id != first.id


async def test_a_concurrent_repeat_is_told_the_first_is_in_progress(env: Env) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    assert await idempotency.begin(env.deps.sessions, principal.account_id, key()) is None  # the first, mid-way
    with pytest.raises(Conflict) as busy:
        await env.create(principal, idem=key())
    assert busy.value.reason == R.IDEMPOTENCY_IN_PROGRESS
    # A claim whose process died is taken over after a minute.
    later = utcnow() + timedelta(minutes=2)
    with mock.patch("services.jobs.domain.idempotency.utcnow", return_value=later):
        job = await env.create(principal, idem=key())
    assert job.status


async def test_racing_repeats_create_one_job(env: Env) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    outcomes = await asyncio.gather(*(env.create(principal, idem=key()) for _ in range(6)), return_exceptions=True)
    jobs = {o.id for o in outcomes if not isinstance(o, BaseException)}
    busy = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(jobs) == 1 and all(o.reason == R.IDEMPOTENCY_IN_PROGRESS for o in busy)
    assert len(busy) + sum(1 for o in outcomes if not isinstance(o, BaseException)) == 6


async def test_a_failed_create_gives_the_key_back_and_answers_expire(env: Env) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    with pytest.raises(InvalidArgument):
        await env.create(principal, idem=key(), codec="mpeg2")
    job = await env.create(principal, idem=key())  # the same key works once the request is right
    later = utcnow() + timedelta(hours=25)
    with mock.patch("services.jobs.domain.idempotency.utcnow", return_value=later):
        assert (await env.create(principal, idem=key())).id != job.id  # after 24 hours: a new request
        assert await idempotency.purge(env.deps.sessions) >= 0
