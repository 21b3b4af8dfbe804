"""Credits (NEU): reserve when a job is accepted, charge when it succeeds, release otherwise.

Every operation runs inside the caller's transaction with the account's row locked (SELECT ...
FOR UPDATE on PostgreSQL; SQLite takes the database's write lock first), so concurrent creates
can never spend the same credits twice or push a balance below zero. Each change appends a
ledger entry with the balances after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.clock import utcnow
from services.common.errors import FailedPrecondition, InvalidArgument, PaymentRequired, R
from services.jobs import repository
from services.jobs.models import CallerHold, CreditAccount, LedgerEntry, Reservation


@dataclass(frozen=True)
class TrialPolicy:
    grant: int = 600  # NEU a new account starts with
    days: int = 30


@dataclass(frozen=True)
class Balance:
    available: int
    reserved: int
    trial_remaining: int
    trial_expires_at: datetime | None


def _trial_usable(account: CreditAccount, now: datetime) -> int:
    if account.trial_expires_at is not None and account.trial_expires_at <= now:
        return 0
    return account.trial


def balance_of(account: CreditAccount, now: datetime | None = None) -> Balance:
    now = now or utcnow()
    trial = _trial_usable(account, now)
    return Balance(account.paid + trial, account.reserved, trial, account.trial_expires_at if trial else None)


async def lock_account(session: AsyncSession, account_id: uuid.UUID, trial: TrialPolicy) -> CreditAccount:
    """The account's credits, locked for this transaction; a first use opens it with the trial grant."""
    account = await repository.get_credit_account(session=session, account_id=account_id, lock=True)
    if account is not None:
        return account
    now = utcnow()
    account = CreditAccount(
        account_id=account_id,
        trial=trial.grant,
        trial_expires_at=now + timedelta(days=trial.days) if trial.grant else None,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    if trial.grant:
        _record(session, account, "trial_grant", trial.grant, None, f"trial for {trial.days} days")
    return account


def _record(
    session: AsyncSession, account: CreditAccount, kind: str, amount: int, job_id: uuid.UUID | None, note: str | None
) -> None:
    now = utcnow()
    account.updated_at = now
    session.add(account)
    session.add(
        LedgerEntry(
            account_id=account.account_id,
            job_id=job_id,
            kind=kind,
            amount=amount,
            paid_after=account.paid,
            trial_after=account.trial,
            reserved_after=account.reserved,
            note=note,
            created_at=now,
        )
    )


def _insufficient(needed: int, available: int) -> PaymentRequired:
    return PaymentRequired(
        f"This needs {needed} NEU; {available} are available.",
        reason=R.TOKENS_INSUFFICIENT,
        metadata={"required": str(needed), "available": str(available)},
    )


def _take(account: CreditAccount, amount: int, now: datetime) -> int:
    """Moves `amount` from the account's pools to reserved (trial first); the trial part. 402 when short,
    before anything changed."""
    if amount < 1:
        raise InvalidArgument("An amount must be at least 1.", reason=R.BODY_INVALID)
    usable_trial = _trial_usable(account, now)
    if usable_trial + account.paid < amount:
        raise _insufficient(amount, usable_trial + account.paid)
    from_trial = min(usable_trial, amount)
    account.trial -= from_trial
    account.paid -= amount - from_trial
    account.reserved += amount
    return from_trial


def _give_back(account: CreditAccount, held: Reservation | CallerHold, amount: int | None) -> int:
    """Returns what `held` holds (all, or up to `amount`) to the pools; how many came back."""
    back = held.trial_part + held.paid_part if amount is None else min(amount, held.trial_part + held.paid_part)
    to_paid = min(back, held.paid_part)  # paid credits go back first: trial ones may have expired
    to_trial = back - to_paid
    held.paid_part -= to_paid
    held.trial_part -= to_trial
    account.paid += to_paid
    account.trial += to_trial
    account.reserved -= back
    held.updated_at = utcnow()
    return back


async def reserve(
    session: AsyncSession, account: CreditAccount, job_id: uuid.UUID, amount: int, *, new: bool = False
) -> Reservation:
    """Holds `amount` for the job the platform runs (trial credits first); 402 insufficient_tokens when short,
    before anything changed. `new`: the job is being created, so it holds nothing yet (no lookup)."""
    now = utcnow()
    from_trial = _take(account, amount, now)
    held = None if new else await repository.get_reservation(session=session, job_id=job_id)
    if held is None:
        held = Reservation(job_id=job_id, account_id=account.account_id, updated_at=now)
    elif held.state != "held":  # held again after a release (a re-priced approval)
        held.state, held.trial_part, held.paid_part = "held", 0, 0
    held.trial_part += from_trial
    held.paid_part += amount - from_trial
    held.updated_at = now
    session.add(held)
    _record(session, account, "reserve", amount, job_id, None)
    return held


async def release(session: AsyncSession, account: CreditAccount, job_id: uuid.UUID, amount: int | None = None) -> int:
    """Returns the job's held credits (all, or up to `amount`) to their pools; how many came back."""
    held = await repository.get_reservation(session=session, job_id=job_id)
    if held is None or held.state != "held":
        return 0
    back = _give_back(account, held, amount)
    if held.trial_part + held.paid_part == 0:
        held.state = "released" if held.charged == 0 else "settled"
    session.add(held)
    if back:
        _record(session, account, "release", back, job_id, None)
    return back


async def charge(session: AsyncSession, account: CreditAccount, job_id: uuid.UUID, amount: int) -> int:
    """Charges the job `amount`: from its held credits first, then from what is available (never
    below zero), and releases whatever it held beyond that. The amount actually charged."""
    held = await repository.get_reservation(session=session, job_id=job_id)
    now = utcnow()
    if held is None:
        held = Reservation(job_id=job_id, account_id=account.account_id, updated_at=now)
    if held.state == "settled":
        return 0
    from_held = min(amount, held.trial_part + held.paid_part)
    from_trial = min(from_held, held.trial_part)
    held.trial_part -= from_trial
    held.paid_part -= from_held - from_trial
    account.reserved -= from_held
    extra = min(amount - from_held, _trial_usable(account, now) + account.paid)
    extra_trial = min(extra, _trial_usable(account, now))
    account.trial -= extra_trial
    account.paid -= extra - extra_trial
    held.charged += from_held + extra
    session.add(held)
    _record(session, account, "deduct", from_held + extra, job_id, None)
    await release(session, account, job_id)
    held.state = "settled"
    session.add(held)
    return from_held + extra


_BY_CALLER = "by the caller (/tokens)"


async def hold(session: AsyncSession, account: CreditAccount, job_id: uuid.UUID, amount: int) -> CallerHold:
    """The caller sets `amount` aside for one of its jobs (POST /tokens/reserve): its own hold, which the
    job's outcome never touches. 402 when short."""
    now = utcnow()
    from_trial = _take(account, amount, now)
    held = await repository.get_caller_hold(session=session, job_id=job_id)
    if held is None:
        held = CallerHold(job_id=job_id, account_id=account.account_id, updated_at=now)
    held.trial_part += from_trial
    held.paid_part += amount - from_trial
    held.updated_at = now
    session.add(held)
    _record(session, account, "reserve", amount, job_id, _BY_CALLER)
    return held


async def _caller_hold(session: AsyncSession, job_id: uuid.UUID) -> CallerHold:
    held = await repository.get_caller_hold(session=session, job_id=job_id)
    if held is None or held.trial_part + held.paid_part == 0:
        # Never the platform's reservation for a job it runs: only what the caller set aside itself.
        raise FailedPrecondition(
            "You hold no credits for this job: only what POST /tokens/reserve set aside can be released or deducted.",
            reason=R.REQUEST_INVALID,
        )
    return held


async def release_hold(session: AsyncSession, account: CreditAccount, job_id: uuid.UUID, amount: int) -> int:
    """Returns up to `amount` of the caller's own hold on the job (never more than it holds); how many."""
    held = await _caller_hold(session, job_id)
    back = _give_back(account, held, amount)
    session.add(held)
    _record(session, account, "release", back, job_id, _BY_CALLER)
    return back


async def deduct_hold(session: AsyncSession, account: CreditAccount, job_id: uuid.UUID, amount: int) -> int:
    """Spends up to `amount` of the caller's own hold on the job and returns the rest of it (a capture of
    a pre-authorisation); how many were spent."""
    held = await _caller_hold(session, job_id)
    spent = min(amount, held.trial_part + held.paid_part)
    from_trial = min(spent, held.trial_part)
    held.trial_part -= from_trial
    held.paid_part -= spent - from_trial
    account.reserved -= spent
    held.charged += spent
    _record(session, account, "deduct", spent, job_id, _BY_CALLER)
    back = _give_back(account, held, None)
    session.add(held)
    if back:
        _record(session, account, "release", back, job_id, _BY_CALLER)
    return spent


def grant(account: CreditAccount, session: AsyncSession, amount: int, *, trial_days: int | None, note: str) -> None:
    """Adds credits: bought ones, or a trial grant that expires after trial_days."""
    if amount < 1:
        raise InvalidArgument("A grant must be at least 1 NEU.", reason=R.BODY_INVALID)
    if trial_days is None:
        account.paid += amount
        _record(session, account, "grant", amount, None, note)
        return
    account.trial = _trial_usable(account, utcnow()) + amount
    account.trial_expires_at = utcnow() + timedelta(days=trial_days)
    _record(session, account, "trial_grant", amount, None, note)


def require_held(held: Reservation | None) -> Reservation:
    if held is None or held.state != "held":
        raise FailedPrecondition("No credits are held for this job.", reason=R.REQUEST_INVALID)
    return held
