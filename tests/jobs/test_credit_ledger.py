"""The ledger balances under any sequence of credit calls and job outcomes, and a caller moves only its own holds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, func, select

from protos.jobs.v1 import jobs_pb2
from services.common.clock import utcnow
from services.common.errors import DomainError
from services.common.identity import Principal
from services.jobs import domain
from services.jobs.models import CallerHold, CreditAccount, LedgerEntry, Reservation
from tests.jobs.conftest import ALL, Env

JOBS = 3
Op = jobs_pb2.CreditOperation
_CALLS = {
    "reserve": Op.CREDIT_OPERATION_RESERVE,
    "release": Op.CREDIT_OPERATION_RELEASE,
    "deduct": Op.CREDIT_OPERATION_DEDUCT,
}

steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(sorted(_CALLS)), st.integers(0, JOBS - 1), st.integers(1, 400)),
        st.tuples(st.sampled_from(["succeed", "fail", "cancel"]), st.integers(0, JOBS - 1), st.integers(1, 20_000)),
    ),
    min_size=1,
    max_size=12,
)


@dataclass(frozen=True)
class Books:
    granted: int
    spent: int
    paid: int
    trial: int
    reserved: int
    platform_held: dict[uuid.UUID, int]
    caller_held: int


async def books(env: Env, account_id: uuid.UUID) -> Books:
    async with env.deps.sessions.begin() as session:
        account = await session.get(CreditAccount, account_id)
        assert account is not None

        async def total(*kinds: str) -> int:
            query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.account_id == account_id, col(LedgerEntry.kind).in_(kinds)
            )
            return int((await session.exec(query)).one())

        held = (await session.exec(select(Reservation).where(Reservation.account_id == account_id))).all()
        holds = (await session.exec(select(CallerHold).where(CallerHold.account_id == account_id))).all()
        return Books(
            granted=await total("grant", "trial_grant"),
            spent=await total("deduct"),
            paid=account.paid,
            trial=account.trial,
            reserved=account.reserved,
            platform_held={r.job_id: r.trial_part + r.paid_part for r in held if r.state == "held"},
            caller_held=sum(h.trial_part + h.paid_part for h in holds),
        )


async def apply(env: Env, principal: Principal, job: jobs_pb2.Job, kind: str, number: int) -> int:
    """One step; the credits a caller call moved (0 for outcomes and refusals)."""
    job_id = uuid.UUID(job.id)
    try:
        if kind in _CALLS:
            done, _ = await domain.adjust(
                env.deps, principal=principal, operation=_CALLS[kind], job_id=job.id, amount=number
            )
            return done if kind != "reserve" else 0
        if kind == "succeed":
            await domain.apply_succeeded(
                env.deps,
                job_id=job_id,
                attempt=1,
                output=domain.Output("k", 1, "video/mp4"),
                source_probe={"duration_sec": float(number)},
                output_probe={},
                encoder="libx264",
                at=utcnow(),
            )
        elif kind == "fail":
            await domain.apply_failed(
                env.deps, job_id=job_id, attempt=1, reason="ENCODE_FAILED", message="x", at=utcnow()
            )
        else:
            await domain.cancel_job(env.deps, principal=principal, job_id=job.id)
    except DomainError:
        pass  # refused (402, nothing held, not cancelable): refusals must move nothing either
    return 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
async def test_the_ledger_balances_under_any_sequence(env: Env, sequence: list[tuple[str, int, int]]) -> None:
    principal = Principal(account_id=uuid.uuid4(), scopes=ALL)
    jobs = [await env.create(principal) for _ in range(JOBS)]
    reserved_by_caller = moved_by_caller = 0
    for kind, index, number in sequence:
        before = await books(env, principal.account_id)
        moved = await apply(env, principal, jobs[index], kind, number)
        after = await books(env, principal.account_id)
        if kind == "reserve":
            reserved_by_caller += after.caller_held - before.caller_held
        moved_by_caller += moved
        # Balanced: every credit granted is available, held, or spent; and what is held is held for someone.
        assert after.granted == after.paid + after.trial + after.reserved + after.spent, (kind, after)
        assert after.reserved == sum(after.platform_held.values()) + after.caller_held
        assert min(after.paid, after.trial, after.reserved, after.caller_held) >= 0
        if kind in _CALLS:  # a caller's call never touches what the platform holds for the jobs it runs
            assert after.platform_held == before.platform_held
            assert after.spent - before.spent <= max(0, before.caller_held)
    assert moved_by_caller <= reserved_by_caller  # nobody moves more than it set aside
