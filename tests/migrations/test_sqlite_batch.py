"""A revision that rebuilds a referenced table on SQLite (batch mode: copy, drop, rename) keeps the rows that
reference it: migrations run with foreign keys off, checked before the commit."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from services.common import migrations
from services.common.db import create_engine
from tests.migrations.previous import on_connection

_MODELS = '''
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """A throwaway service's tables."""


class Parent(Base, table=True):
    __tablename__ = "parents"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    note: str = ""


class Child(Base, table=True):
    __tablename__ = "children"
    id: int | None = Field(default=None, primary_key=True)
    parent_id: int = Field(foreign_key="parents.id", ondelete="CASCADE")
'''
_ENV = """
from batchsvc.models import Base
from services.common.migrations import run_environment

run_environment(Base.metadata)
"""
_FIRST = """
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0001", None, None, None


def upgrade() -> None:
    op.create_table("parents", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.String()))
    op.create_table(
        "children",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("parents.id", ondelete="CASCADE"), nullable=False),
    )
"""
_SECOND = """
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0002", "0001", None, None


def upgrade() -> None:
    with op.batch_alter_table("parents", recreate="always") as batch:  # what SQLite needs for most changes
        batch.add_column(sa.Column("note", sa.String(), nullable=False, server_default=""))
        batch.alter_column("name", existing_type=sa.String(), nullable=False)
"""


@pytest.fixture
def schema(tmp_path: Path) -> Iterator[migrations.Schema]:
    """A service package `batchsvc` of its own: models, env.py and two revisions."""
    package = tmp_path / "pkg" / "batchsvc"
    (package / "migrations" / "versions").mkdir(parents=True)
    for path, source in {
        "__init__.py": "",
        "models.py": _MODELS,
        "migrations/__init__.py": "",
        "migrations/env.py": _ENV,
        "migrations/versions/0001_first.py": _FIRST,
        "migrations/versions/0002_rebuild.py": _SECOND,
    }.items():
        (package / path).write_text(textwrap.dedent(source))
    sys.path.insert(0, str(package.parent))
    try:
        yield migrations.schema_for(importlib.import_module("batchsvc.models").Base.metadata)
    finally:
        sys.path.remove(str(package.parent))
        for name in [m for m in sys.modules if m == "batchsvc" or m.startswith("batchsvc.")]:
            del sys.modules[name]


def _insert(conn: Connection) -> None:
    conn.execute(text("INSERT INTO parents (id, name) VALUES (1, 'kept')"))
    conn.execute(text("INSERT INTO children (id, parent_id) VALUES (10, 1), (11, 1)"))
    conn.commit()


def _children(conn: Connection) -> list[tuple[int, int]]:
    return [(row[0], row[1]) for row in conn.execute(text("SELECT id, parent_id FROM children ORDER BY id"))]


async def test_rebuilding_a_referenced_table_keeps_the_rows_referencing_it(
    tmp_path: Path, schema: migrations.Schema
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'batch.sqlite3'}"
    engine = create_engine(url)
    try:
        await migrations.migrate(engine, schema, "0001")
        await on_connection(url, _insert)
        await migrations.migrate(engine, schema)  # drops and recreates `parents`: a cascade would empty `children`
    finally:
        await engine.dispose()

    assert await on_connection(url, _children) == [(10, 1), (11, 1)]
    assert await on_connection(url, migrations.current, schema) == ("0002",)
