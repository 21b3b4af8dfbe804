"""Entry point of the `vidkiln` console script."""

from __future__ import annotations

import argparse
import asyncio
import sys

from services.cli import admin, credits, db
from services.common.lifecycle import prepare_process


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vidkiln", description="Self-hosted video encoding platform.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="run the whole platform (embedded NATS, every service, the gateway)")
    admin.add_parsers(sub)
    credits.add_parsers(sub)
    db.add_parsers(sub)
    args = parser.parse_args(argv)
    if args.command == "up":
        from services.cli.up import run_up

        sys.exit(run_up())  # it prepares the data directory itself
    if args.command == "db":
        sys.exit(db.run(args))  # as up: prepares the data directory only when it opens a database
    prepare_process()  # any command may create the data dir, a database or the key first: owner-only
    if args.command == "tokens":
        sys.exit(asyncio.run(credits.run(args)))
    sys.exit(admin.run(args))
