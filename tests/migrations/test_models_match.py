"""The migrations make what the models declare: upgrading an empty database leaves Alembic's comparison nothing to
report, on SQLite and PostgreSQL, for each service alone and for all of them sharing one database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from sqlalchemy import Connection, inspect

from services.common import migrations
from services.common.db import open_database
from tests.migrations.previous import SCHEMAS, on_connection


def _differences(conn: Connection, schema: migrations.Schema) -> list[Any]:
    return list(compare_metadata(migrations.migration_context(conn, schema), schema.metadata))


def _add_a_migration(service: str, differences: list[Any]) -> str:
    return (
        f"the {service} models differ from what its migrations make; add a migration:\n"
        f"    vidkiln db revision --service {service} -m 'what changed' --autogenerate\n"
        f"then review services/{service}/migrations/versions/. The differences:\n"
        + "\n".join(f"    {d!r}" for d in differences)
    )


@pytest.mark.parametrize("service", list(SCHEMAS))
async def test_the_newest_revision_makes_what_the_models_declare(
    service: str, database_url: str | None, tmp_path: Path
) -> None:
    schema = SCHEMAS[service]
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / f'{service}.sqlite3'}"

    async with open_database(url, schema.metadata):
        pass

    differences = await on_connection(url, _differences, schema)
    assert not differences, _add_a_migration(service, differences)
    head = migrations.scripts(schema).get_current_head()
    assert await on_connection(url, migrations.current, schema) == (head,)


async def test_services_sharing_one_database_each_keep_their_own_revision(
    database_url: str | None, tmp_path: Path
) -> None:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    for schema in SCHEMAS.values():
        async with open_database(url, schema.metadata):
            pass
    for schema in SCHEMAS.values():  # again: each finds its own revision, and nothing of the others' to change
        async with open_database(url, schema.metadata):
            pass

    tables = set(await on_connection(url, lambda conn: inspect(conn).get_table_names()))
    assert {f"alembic_version_{name}" for name in SCHEMAS} <= tables
    for name, schema in SCHEMAS.items():
        differences = await on_connection(url, _differences, schema)
        assert not differences, _add_a_migration(name, differences)
        assert await on_connection(url, migrations.current, schema) == (migrations.scripts(schema).get_current_head(),)


@pytest.mark.parametrize("service", list(SCHEMAS))
def test_each_service_has_one_line_of_revisions(service: str) -> None:
    # Two heads (two branches merged without a merge revision) would leave "head" ambiguous at start.
    script = migrations.scripts(SCHEMAS[service])
    assert len(script.get_heads()) == 1, f"{service}: several heads; vidkiln db revision cannot merge them for you"
    assert len(script.get_bases()) == 1
