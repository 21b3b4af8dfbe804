"""Credits: reserved on create, charged on success, released otherwise; never below zero, even
under concurrent creates; every change in an append-only ledger."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from sqlmodel import col, select

from protos.common.v1 import storage_pb2
from protos.jobs.v1 import jobs_pb2
from services.common.clock import utcnow
from services.common.errors import DomainError, PaymentRequired, R
from services.common.identity import Principal
from services.jobs import domain
from services.jobs.domain import credits
from services.jobs.models import LedgerEntry
from tests.jobs.conftest import ALL, Env, make_policy


async def grant(env: Env, account_id: uuid.UUID, amount: int, *, trial_days: int | None = None) -> None:
    async with env.deps.sessions.begin() as session:
        account = await credits.lock_account(session, account_id, env.deps.policy.trial)
        credits.grant(account, session, amount, trial_days=trial_days, note="test")


async def ledger(env: Env, account_id: uuid.UUID) -> list[tuple[str, int, int, int, int]]:
    async with env.deps.sessions.begin() as session:
        rows = await session.exec(
            select(LedgerEntry).where(LedgerEntry.account_id == account_id).order_by(col(LedgerEntry.id))
        )
        return [(r.kind, r.amount, r.paid_after, r.trial_after, r.reserved_after) for r in rows.all()]


@pytest.mark.parametrize("policy", [make_policy(trial=0)])
async def test_concurrent_creates_never_spend_more_than_the_balance(env: Env) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    await grant(env, principal.account_id, 10)
    outcomes = await asyncio.gather(
        *(env.create(principal, resolution="480p", codec="h264") for _ in range(14)), return_exceptions=True
    )
    accepted = [o for o in outcomes if isinstance(o, jobs_pb2.Job)]
    refused = [o for o in outcomes if isinstance(o, PaymentRequired)]
    assert len(accepted) == 10 and len(refused) == 4  # 1 NEU each, 10 available
    assert all(o.reason == R.TOKENS_INSUFFICIENT and o.metadata == {"required": "1", "available": "0"} for o in refused)
    balance = await domain.get_balance(env.deps, principal=principal)
    assert (balance.available, balance.reserved) == (0, 10)
    entries = await ledger(env, principal.account_id)
    assert [kind for kind, *_ in entries] == ["grant"] + ["reserve"] * 10
    assert all(paid >= 0 and reserved >= 0 for _, _, paid, _, reserved in entries)


async def test_trial_credits_are_spent_first_and_expire(env: Env) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    await grant(env, principal.account_id, 5)
    balance = await domain.get_balance(env.deps, principal=principal)
    assert (balance.available, balance.trial_remaining) == (605, 600)
    job = await env.create(principal)
    async with env.deps.sessions.begin() as session:
        account = await credits.lock_account(session, principal.account_id, env.deps.policy.trial)
        assert (account.trial, account.paid, account.reserved) == (599, 5, 1)
    later = utcnow() + timedelta(days=31)
    with mock.patch("services.jobs.domain.credits.utcnow", return_value=later):
        expired = await domain.get_balance(env.deps, principal=principal)
        assert (expired.available, expired.trial_remaining, expired.trial_expires_at) == (5, 0, None)
        with pytest.raises(PaymentRequired):
            await domain.adjust(
                env.deps, principal=principal, operation=jobs_pb2.CREDIT_OPERATION_RESERVE, job_id=job.id, amount=6
            )


async def test_manual_reserve_release_and_deduct(env: Env) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    job = await env.create(principal)  # holds 1
    op = jobs_pb2.CreditOperation
    done, after = await domain.adjust(
        env.deps, principal=principal, operation=op.CREDIT_OPERATION_RESERVE, job_id=job.id, amount=9
    )
    assert (done, after.available, after.reserved) == (9, 590, 10)
    done, after = await domain.adjust(
        env.deps, principal=principal, operation=op.CREDIT_OPERATION_RELEASE, job_id=job.id, amount=4
    )
    assert (done, after.available, after.reserved) == (4, 594, 6)
    done, after = await domain.adjust(
        env.deps, principal=principal, operation=op.CREDIT_OPERATION_DEDUCT, job_id=job.id, amount=2
    )
    # Charged 2 of the caller's hold and the other 3 of it came back; the platform's 1 for the job stays held.
    assert (done, after.available, after.reserved) == (2, 597, 1)
    other = Principal(account_id=uuid.uuid4(), scopes=ALL)
    with pytest.raises(DomainError):  # another account's job is not found
        await domain.adjust(env.deps, principal=other, operation=op.CREDIT_OPERATION_RESERVE, job_id=job.id, amount=1)
    for operation in (op.CREDIT_OPERATION_RELEASE, op.CREDIT_OPERATION_DEDUCT):
        with pytest.raises(DomainError) as refused:  # the platform's reservation is not the caller's to move
            await domain.adjust(env.deps, principal=principal, operation=operation, job_id=job.id, amount=10**9)
        assert refused.value.reason == R.REQUEST_INVALID
    kinds = [kind for kind, *_ in await ledger(env, principal.account_id)]
    assert kinds == ["trial_grant", "reserve", "reserve", "release", "deduct", "release"]


async def test_a_success_costing_more_than_held_never_goes_below_zero(env: Env) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    job = await env.create(principal)  # estimated from the 2 s probe: 1 NEU held
    await domain.apply_succeeded(
        env.deps,
        job_id=uuid.UUID(job.id),
        attempt=1,
        output=domain.Output("k", 1, "video/mp4"),
        source_probe={"duration_sec": 3600.0 * 10},  # ten hours: 3 x 1.5 x 600 = 2700 NEU
        output_probe={},
        encoder="libx264",
        at=utcnow(),
    )
    balance = await domain.get_balance(env.deps, principal=principal)
    assert (balance.available, balance.reserved) == (0, 0)  # charged all there was: 600, not 2700


async def test_approving_again_reprices_and_holds_only_the_new_estimate(env: Env) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    request = domain.new_job(options={}, source=storage_pb2.Source(url=env.source), on_demand=False)
    job = await domain.create_job(env.deps, principal=principal, request=request)
    assert job.status == jobs_pb2.JOB_STATUS_CREATED and not job.HasField("estimate")
    _, first = await domain.approve_job(env.deps, principal=principal, job_id=job.id, overrides={})
    # A two-second source: 1080p h264 rounds up to 1 NEU; 4320p av1 two-pass to ceil(40 x 2 / 60) = 2.
    _, second = await domain.approve_job(
        env.deps, principal=principal, job_id=job.id, overrides={"resolution": "4320p", "codec": "av1"}
    )
    assert (first.total, second.total) == (1, 2)
    balance = await domain.get_balance(env.deps, principal=principal)
    assert (balance.available, balance.reserved) == (598, 2)
    queued = await domain.confirm_job(
        env.deps, principal=principal, job_id=job.id, overrides={"codec": "", "resolution": ""}
    )
    assert queued.status == "queued" and queued.reserved_neu == 2  # zero values change nothing
    kinds = [kind for kind, *_ in await ledger(env, principal.account_id)]
    assert kinds == ["trial_grant", "reserve", "release", "reserve"]
