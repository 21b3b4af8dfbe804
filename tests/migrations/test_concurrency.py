"""Replicas of a service starting at once against one database: one migrates (between processes: PostgreSQL's
advisory lock, SQLite's immediate transaction; inside one: a lock of the process), the others wait and find the
work done."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlmodel import select

from services.common import migrations
from services.common.db import open_database
from services.jobs.models import Job, JobsTable
from tests.harness import ROOT
from tests.migrations.previous import SCHEMAS, lay_out, on_connection

_REPLICA = """
import asyncio, sys
from sqlmodel import select
from services.common.db import open_database
from services.jobs.models import Job, JobsTable

async def main() -> None:
    async with open_database(sys.argv[1], JobsTable.metadata) as sessions, sessions() as session:
        sys.stdout.write(str(len((await session.exec(select(Job))).all())))

asyncio.run(main())
"""


async def _process(url: str) -> int:
    """A replica of its own: a process that opens the jobs database and counts its jobs."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _REPLICA, url, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=120)
    assert child.returncode == 0, err.decode()[-2000:]
    return int(out)


async def _in_process(url: str) -> int:
    async with open_database(url, JobsTable.metadata) as sessions, sessions() as session:
        return len((await session.exec(select(Job))).all())


async def _at_head(url: str) -> bool:
    schema = SCHEMAS["jobs"]
    return bool(
        await on_connection(url, migrations.current, schema) == (migrations.scripts(schema).get_current_head(),)
    )


async def test_replica_processes_upgrading_the_previous_release_together_all_start(
    tmp_path: Path, database_url: str | None
) -> None:
    previous = await lay_out(tmp_path, database_url)
    url = previous.url_for("jobs")

    seen = await asyncio.gather(*(_process(url) for _ in range(4)))

    assert seen == [len(previous.manifest["jobs"])] * 4
    assert await _at_head(url)


async def test_replica_processes_creating_an_empty_database_together_all_start(
    tmp_path: Path, database_url: str | None
) -> None:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite3'}"
    assert await asyncio.gather(*(_process(url) for _ in range(4))) == [0] * 4
    assert await _at_head(url)


async def test_every_service_opening_the_previous_release_at_once_in_one_process(
    tmp_path: Path, database_url: str | None
) -> None:
    # As a test, or a tool, that opens several databases together: without the process's lock the migrations would
    # share Alembic's global `op` and `context` (and the jobs one would deadlock on PostgreSQL).
    previous = await lay_out(tmp_path, database_url)

    async def open_only(service: str) -> None:
        async with open_database(previous.url_for(service), SCHEMAS[service].metadata):
            pass

    seen = await asyncio.gather(_in_process(previous.url_for("jobs")), *(open_only(name) for name in SCHEMAS))

    assert seen[0] == len(previous.manifest["jobs"])
    for name, schema in SCHEMAS.items():
        heads = await on_connection(previous.url_for(name), migrations.current, schema)
        assert heads == (migrations.scripts(schema).get_current_head(),)
