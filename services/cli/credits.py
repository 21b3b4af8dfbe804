"""`vidkiln tokens`: an operator grants credits (NEU) and reads balances, on the jobs database."""

from __future__ import annotations

import argparse
import sys

from services.auth import domain as auth
from services.auth.config import Settings as AuthSettings
from services.auth.models import AuthTable
from services.common.db import open_database
from services.common.errors import DomainError
from services.jobs import domain as jobs
from services.jobs.config import Settings as JobsSettings
from services.jobs.domain.credits import Balance, TrialPolicy
from services.jobs.models import JobsTable


def _trial(settings: JobsSettings) -> TrialPolicy:
    return TrialPolicy(grant=settings.trial_grant_neu, days=settings.trial_days)


def _show(email: str, balance: Balance) -> str:
    trial = ""
    if balance.trial_remaining:
        assert balance.trial_expires_at is not None
        trial = f" (trial {balance.trial_remaining} until {balance.trial_expires_at:%Y-%m-%d})"
    return f"{email}: available {balance.available}{trial}, reserved {balance.reserved}"


async def run(args: argparse.Namespace) -> int:
    try:
        async with open_database(AuthSettings().database_url_for("auth"), AuthTable.metadata) as sessions:
            account = await auth.find_account(sessions, email=args.account)
        settings = JobsSettings()
        async with open_database(settings.database_url_for("jobs"), JobsTable.metadata) as sessions:
            if args.action == "grant":
                balance = await jobs.grant_credits(
                    sessions,
                    account_id=account.id,
                    amount=args.amount,
                    trial_days=args.trial_days,
                    note=args.note or "granted with vidkiln tokens grant",
                    trial=_trial(settings),
                )
            else:
                balance = await jobs.account_balance(sessions, account_id=account.id, trial=_trial(settings))
    except DomainError as exc:
        print(f"vidkiln: {exc.message}", file=sys.stderr)
        return 1
    print(_show(account.email, balance))
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tokens = sub.add_parser("tokens", help="credits (NEU)").add_subparsers(dest="action", required=True)
    grant = tokens.add_parser("grant", help="add credits to an account (appended to its ledger)")
    grant.add_argument("--account", required=True, help="account email")
    grant.add_argument("--amount", required=True, type=int, help="NEU to add (at least 1)")
    grant.add_argument("--trial-days", type=int, dest="trial_days", help="a trial grant expiring after these days")
    grant.add_argument("--note", help="why, for the ledger")
    balance = tokens.add_parser("balance", help="an account's balance")
    balance.add_argument("--account", required=True, help="account email")
