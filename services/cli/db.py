"""`vidkiln db`: the schemas of the services' tables (upgrade, the revision each database is at, the revisions
there are) on the data directory or VIDKILN_DATABASE_URL; and, for developers, a new revision."""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy import MetaData

from services.auth.models import AuthTable
from services.common import migrations
from services.common.config import BaseServiceSettings
from services.common.db import create_engine, open_database
from services.common.lifecycle import prepare_process
from services.ingest.models import IngestTable
from services.jobs.models import JobsTable
from services.webhooks.models import WebhooksTable

# In the order `vidkiln up` starts them; the encoder keeps no database.
SCHEMAS: dict[str, MetaData] = {
    "auth": AuthTable.metadata,
    "ingest": IngestTable.metadata,
    "webhooks": WebhooksTable.metadata,
    "jobs": JobsTable.metadata,
}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="schema migrations of the services' databases")
    actions = db.add_subparsers(dest="action", required=True)
    for name, text in (
        ("upgrade", "upgrade the tables to the newest revision (services also do at start)"),
        ("current", "the revision each service's database is at"),
        ("history", "the revisions there are, newest first"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--service", choices=list(SCHEMAS), help="only this service (default: every one)")
    revision = actions.add_parser(
        "revision", help="(developers) write a new revision into services/<service>/migrations/versions"
    )
    revision.add_argument("--service", choices=list(SCHEMAS), required=True)
    revision.add_argument("-m", "--message", required=True, help="what the revision changes, one line")
    revision.add_argument(
        "--autogenerate", action="store_true", help="fill it with the differences between the models and the head"
    )


def _chosen(args: argparse.Namespace) -> list[migrations.Schema]:
    names = [args.service] if args.service else list(SCHEMAS)
    return [migrations.schema_for(SCHEMAS[name]) for name in names]


async def _upgrade(schemas: list[migrations.Schema], settings: BaseServiceSettings) -> int:
    for schema in schemas:
        before = await _current(schema, settings)
        async with open_database(settings.database_url_for(schema.service), schema.metadata):
            pass
        after = await _current(schema, settings)
        print(f"{schema.service:<9} {_show(before)} -> {_show(after)}")
    return 0


async def _report_current(schemas: list[migrations.Schema], settings: BaseServiceSettings) -> int:
    behind = 0
    for schema in schemas:
        engine = create_engine(settings.database_url_for(schema.service))
        try:
            async with engine.connect() as conn:
                heads = await conn.run_sync(migrations.current, schema)
                made_before = await conn.run_sync(migrations.unversioned, schema)
        finally:
            await engine.dispose()
        newest = migrations.scripts(schema).get_current_head()
        if heads == (newest,):
            state = "(head)"
        elif made_before:
            state = "(tables made before migrations: upgrading stamps and upgrades them)"
        else:
            state = f"(head is {newest}: run `vidkiln db upgrade`)"
        behind += heads != (newest,)
        print(f"{schema.service:<9} {_show(heads)} {state}")
    return 1 if behind else 0  # scripts can wait for an upgrade: nonzero while any is behind


async def _current(schema: migrations.Schema, settings: BaseServiceSettings) -> tuple[str, ...]:
    engine = create_engine(settings.database_url_for(schema.service))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(migrations.current, schema)
    finally:
        await engine.dispose()


def _show(heads: tuple[str, ...]) -> str:
    return ",".join(heads) or "none"


def _history(schemas: list[migrations.Schema]) -> int:
    for schema in schemas:
        for script in migrations.history(schema):
            head = " (head)" if script.is_head else ""
            print(f"{schema.service:<9} {script.revision}  {script.doc}{head}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Runs `vidkiln db <action>`; upgrade and current open the configured databases, the others none."""
    schemas = _chosen(args)
    if args.action == "history":
        return _history(schemas)
    if args.action == "revision":
        path = migrations.revise(schemas[0], args.message, autogenerate=args.autogenerate)
        print(f"{path}\nreview it, then run tests/migrations (the models must match the head)")
        return 0
    prepare_process()  # may create the data directory or a database first: owner-only
    settings = BaseServiceSettings()
    if args.action == "upgrade":
        return asyncio.run(_upgrade(schemas, settings))
    return asyncio.run(_report_current(schemas, settings))
