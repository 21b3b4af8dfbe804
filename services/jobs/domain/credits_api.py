"""The credit routes: balance, and reserving, releasing or deducting against one of your jobs."""

from __future__ import annotations

import uuid

from protos.jobs.v1 import jobs_pb2
from services.common.db import Sessions
from services.common.errors import InvalidArgument, R
from services.common.identity import Principal
from services.jobs.domain import credits
from services.jobs.domain.deps import Deps
from services.jobs.domain.queries import owned

Op = jobs_pb2.CreditOperation


async def get_balance(deps: Deps, *, principal: Principal) -> credits.Balance:
    return await account_balance(deps.sessions, account_id=principal.account_id, trial=deps.policy.trial)


async def adjust(
    deps: Deps, *, principal: Principal, operation: Op.ValueType, job_id: str, amount: int
) -> tuple[int, credits.Balance]:
    """Reserve, release or deduct `amount` NEU for one of the caller's jobs; what was done and the balance
    after it. These move only what the caller set aside itself (its hold on the job): never the reservation
    the platform holds for a job it runs, never more than the hold, never for another account's job."""
    if amount < 1:
        raise InvalidArgument("amount must be at least 1.", reason=R.BODY_INVALID)
    async with deps.sessions.begin() as session:
        job = await owned(session, principal, job_id)
        account = await credits.lock_account(session, principal.account_id, deps.policy.trial)
        if operation == jobs_pb2.CREDIT_OPERATION_RESERVE:
            await credits.hold(session, account, job.id, amount)
            done = amount
        elif operation == jobs_pb2.CREDIT_OPERATION_RELEASE:
            done = await credits.release_hold(session, account, job.id, amount)
        elif operation == jobs_pb2.CREDIT_OPERATION_DEDUCT:
            done = await credits.deduct_hold(session, account, job.id, amount)
        else:
            raise InvalidArgument("Unknown credit operation.", reason=R.REQUEST_INVALID)
        balance = credits.balance_of(account)
    return done, balance


async def grant_credits(
    sessions: Sessions,
    *,
    account_id: uuid.UUID,
    amount: int,
    trial_days: int | None,
    note: str,
    trial: credits.TrialPolicy,
) -> credits.Balance:
    """Adds credits to an account (an operator's grant): bought ones, or a trial that expires."""
    async with sessions.begin() as session:
        account = await credits.lock_account(session, account_id, trial)
        credits.grant(account, session, amount, trial_days=trial_days, note=note)
        session.add(account)
        return credits.balance_of(account)


async def account_balance(sessions: Sessions, *, account_id: uuid.UUID, trial: credits.TrialPolicy) -> credits.Balance:
    async with sessions.begin() as session:
        return credits.balance_of(await credits.lock_account(session, account_id, trial))
