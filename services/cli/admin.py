"""Admin commands working directly on the auth service's database (no platform needs to run)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import uuid

import nats

from protos.auth.v1 import events_pb2
from services.auth import domain
from services.auth.config import Settings
from services.auth.models import Account, AuthTable
from services.common import subjects
from services.common.db import open_database
from services.common.errors import DomainError
from services.common.identity import TokenSigner

RUNTIME_FILE = "runtime.json"  # written by `vidkiln up` while it runs (owner-only): its NATS URL, token included


async def _with_deps(action: str, args: argparse.Namespace) -> int:
    settings = Settings()
    async with open_database(settings.database_url_for("auth"), AuthTable.metadata) as sessions:
        deps = domain.Deps(sessions=sessions, signer=TokenSigner(settings.platform_key()))
        try:
            return await _COMMANDS[action](deps, args)
        except DomainError as exc:
            print(f"vidkiln: {exc.message}", file=sys.stderr)
            return 1


async def _account_for(deps: domain.Deps, email: str | None) -> Account:
    if email:
        return await domain.find_account(deps.sessions, email=email)
    accounts = [a for a in await domain.list_accounts(deps.sessions) if a.role == "ADMIN"]
    if not accounts:
        raise DomainError("No admin account yet: run `vidkiln up` once, or pass --account.")
    return accounts[0]


def _password(args: argparse.Namespace, *, required: bool) -> str | None:
    """From stdin (--password-stdin), else a prompt on a terminal; never from the command line."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        if required:
            raise DomainError("Give the password on standard input with --password-stdin.")
        return None
    first = getpass.getpass("Password: ")
    if not first and not required:
        return None
    if getpass.getpass("Again: ") != first:
        raise DomainError("The passwords differ.")
    return first


async def accounts_create(deps: domain.Deps, args: argparse.Namespace) -> int:
    password = _password(args, required=False)
    # An operator creates the account and vouches for its email.
    account = await domain.create_account(
        deps, email=args.email, role=args.role, password=password, email_verified=True
    )
    print(account.id)
    return 0


async def accounts_list(deps: domain.Deps, _args: argparse.Namespace) -> int:
    for account in await domain.list_accounts(deps.sessions):
        login = "password" if account.password_hash else "keys only"
        print(f"{account.id}  {account.role:<5}  {account.email}  {login}  {account.created_at:%Y-%m-%d %H:%M}")
    return 0


async def accounts_password(deps: domain.Deps, args: argparse.Namespace) -> int:
    password = _password(args, required=True)
    assert password is not None
    await domain.set_password(deps, email=args.email, password=password)
    print(f"password set for {args.email}", file=sys.stderr)
    return 0


async def keys_create(deps: domain.Deps, args: argparse.Namespace) -> int:
    account = await _account_for(deps, args.account)
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()] if args.scopes else list(domain.DEFAULT_SCOPES)
    issued = await domain.create_api_key(
        deps, account_id=account.id, name=args.name, scopes=scopes, expires_in_days=args.expires_in_days
    )
    print(issued.raw)  # alone on stdout, for scripts: KEY=$(vidkiln keys create --name ci)
    return 0


async def keys_list(deps: domain.Deps, args: argparse.Namespace) -> int:
    account = await _account_for(deps, args.account)
    for key in await domain.list_api_keys(deps, account_id=account.id):
        expires = f"expires {key.expires_at:%Y-%m-%d}" if key.expires_at else "no expiry"
        print(f"{key.id}  {key.prefix}...  {key.name}  [{','.join(key.scopes)}]  {expires}")
    return 0


async def keys_revoke(deps: domain.Deps, args: argparse.Namespace) -> int:
    account = await _account_for(deps, args.account)
    await domain.delete_api_key(deps, account_id=account.id, key_id=args.key_id)
    if await _broadcast_revocation(args.key_id):
        print("revoked; the running platform dropped it", file=sys.stderr)
    else:
        print("revoked; a running platform stops accepting it within seconds", file=sys.stderr)
    return 0


async def _broadcast_revocation(key_id: str) -> bool:
    """Tells a running platform at once, when its NATS can be found (else its caches expire)."""
    settings = Settings()
    url = settings.nats_url if "nats_url" in settings.model_fields_set else None
    if url is None:
        try:
            url = json.loads((settings.data_dir / RUNTIME_FILE).read_text())["nats_url"]
        except (OSError, ValueError, KeyError):
            return False
    try:
        nc = await nats.connect(
            url, connect_timeout=1, max_reconnect_attempts=0, allow_reconnect=False, error_cb=_no_report
        )
    except Exception:
        return False
    try:
        await nc.publish(subjects.KEY_REVOKED, events_pb2.KeyRevoked(key_id=str(uuid.UUID(key_id))).SerializeToString())
        await nc.flush(timeout=2)
        return True
    finally:
        await nc.close()


async def _no_report(_exc: Exception) -> None:
    """nats-py's default logs a traceback for a stale runtime file or a refused token: the caller falls back."""


_COMMANDS = {
    "accounts create": accounts_create,
    "accounts list": accounts_list,
    "accounts password": accounts_password,
    "keys create": keys_create,
    "keys list": keys_list,
    "keys revoke": keys_revoke,
}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = sub.add_parser("accounts", help="manage accounts").add_subparsers(dest="action", required=True)
    create = accounts.add_parser("create", help="create an account (prompts for an optional password)")
    create.add_argument("--email", required=True)
    create.add_argument("--role", choices=domain.ROLES, default="USER")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    accounts.add_parser("list", help="list accounts")
    password = accounts.add_parser("password", help="set an account's password (for POST /auth/login)")
    password.add_argument("--email", required=True)
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    kcreate = keys.add_parser("create", help="create an API key and print it (shown once)")
    kcreate.add_argument("--name", required=True)
    kcreate.add_argument(
        "--scopes",
        help=f"comma-separated, among {','.join(domain.ALL_SCOPES)}; default all but tokens:write",
    )
    kcreate.add_argument("--account", help="account email (default: the admin account)")
    kcreate.add_argument("--expires-in-days", type=int, dest="expires_in_days")
    klist = keys.add_parser("list", help="list an account's keys (never the keys themselves)")
    klist.add_argument("--account", help="account email (default: the admin account)")
    krevoke = keys.add_parser("revoke", help="revoke an API key by its id")
    krevoke.add_argument("key_id")
    krevoke.add_argument("--account", help="account email (default: the admin account)")


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_with_deps(f"{args.command} {args.action}", args))
