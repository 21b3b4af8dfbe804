"""The release before migrations, as a test needs it: its data directory (tests/data/release_a6ce9e1) laid out on
either backend, row counts, and the schema of a database as reflection sees it."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Connection, MetaData, inspect, text

from services.auth.models import AuthTable
from services.common import migrations
from services.common.config import BaseServiceSettings
from services.common.db import create_engine
from services.ingest.models import IngestTable
from services.jobs.models import JobsTable
from services.webhooks.models import WebhooksTable
from tests.harness import ROOT

FIXTURE = ROOT / "tests" / "data" / "release_a6ce9e1"
SCHEMAS = {
    name: migrations.schema_for(metadata)
    for name, metadata in (
        ("auth", AuthTable.metadata),
        ("ingest", IngestTable.metadata),
        ("webhooks", WebhooksTable.metadata),
        ("jobs", JobsTable.metadata),
    )
}


@dataclass(frozen=True)
class Previous:
    """A copy of the previous release's data directory (and its PostgreSQL database, when there is one)."""

    data_dir: Path
    database_url: str | None
    manifest: dict[str, Any]

    def url_for(self, service: str) -> str:
        return BaseServiceSettings(data_dir=self.data_dir, database_url=self.database_url).database_url_for(service)


async def lay_out(tmp_path: Path, database_url: str | None) -> Previous:
    """Copies the fixture to tmp_path/data (owner-only, as the release left it); loads its dump into database_url."""
    source = FIXTURE / ("postgres" if database_url else "sqlite")
    data_dir = tmp_path / "data"
    shutil.copytree(source, data_dir, ignore=shutil.ignore_patterns("manifest.json", "dump.sql"))
    for root, _dirs, files in os.walk(data_dir):  # git keeps no modes: give back the ones the release made
        os.chmod(root, 0o700)
        for name in files:
            os.chmod(Path(root) / name, 0o600)
    if database_url:
        await execute_script(database_url, (source / "dump.sql").read_text())
    return Previous(data_dir, database_url, json.loads((source / "manifest.json").read_text()))


async def execute_script(database_url: str, script: str) -> None:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(script)
    finally:
        await conn.close()


@asynccontextmanager
async def another_postgres(database_url: str) -> AsyncIterator[str]:
    """A second, empty database on the same server."""
    admin = database_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"vk_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield database_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def on_connection(url: str, fn: Any, *args: Any) -> Any:
    """fn(sync connection, *args) on a connection of its own."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn, *args)
    finally:
        await engine.dispose()


def row_counts(conn: Connection, metadata: MetaData) -> dict[str, int]:
    """Rows per table of the metadata that the database has."""
    present = set(inspect(conn).get_table_names())
    return {
        name: int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
        for name in sorted(metadata.tables)
        if name in present
    }


def schema_snapshot(conn: Connection, tables: list[str]) -> dict[str, Any]:
    """The tables as reflection sees them: columns, keys, indexes, constraints (and SQLite's own CREATE text)."""
    found = inspect(conn)
    snapshot: dict[str, Any] = {}
    for table in sorted(tables):
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("autoincrement"))
                for c in found.get_columns(table)
            ],
            "primary_key": found.get_pk_constraint(table),
            "foreign_keys": sorted(map(repr, found.get_foreign_keys(table))),
            "indexes": sorted(map(repr, found.get_indexes(table))),
            "unique": sorted(map(repr, found.get_unique_constraints(table))),
            "checks": sorted(map(repr, found.get_check_constraints(table))),
        }
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL", (table,)
            )
            snapshot[table]["sql"] = sorted(row[0] for row in rows)
    return snapshot
