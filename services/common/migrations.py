"""Alembic, one environment per service: the `migrations/` folder beside a service's models, its own version
table, upgrades one process at a time, and databases made before Alembic recognised and stamped."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import logging
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, MetaData, create_engine, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schema:
    """One service's tables and where their migrations live."""

    package: str  # "services.jobs": its models declare the tables, its migrations/ folder changes them
    metadata: MetaData

    @property
    def service(self) -> str:
        return self.package.rpartition(".")[2]

    @property
    def version_table(self) -> str:
        # Services may share one PostgreSQL database: each keeps its own revision.
        return f"alembic_version_{self.service}"


def schema_for(metadata: MetaData) -> Schema:
    """The schema of the package whose SQLModel base declares `metadata` (its migrations are `<package>.migrations`)."""
    for cls in _subclasses(SQLModel):
        if cls.metadata is metadata:
            package = cls.__module__.rpartition(".")[0]
            if importlib.util.find_spec(f"{package}.migrations") is None:
                raise LookupError(f"{cls.__module__} declares tables, but {package} has no migrations/ folder")
            return Schema(package=package, metadata=metadata)
    raise LookupError("no SQLModel base declares this metadata")


def _subclasses(cls: type[SQLModel]) -> Iterator[type[SQLModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def alembic_config(schema: Schema, connection: Connection | None = None) -> Config:
    """A Config without an alembic.ini: the service's script folder, and the connection env.py migrates on."""
    config = Config()
    config.set_main_option("script_location", f"{schema.package}:migrations")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if importlib.util.find_spec("ruff") is not None:  # a developer's checkout: new revisions come out formatted
        config.set_section_option("post_write_hooks", "hooks", "ruff_format, ruff_fix")
        for name, options in (("ruff_format", "format --quiet"), ("ruff_fix", "check --fix --quiet")):
            config.set_section_option("post_write_hooks", f"{name}.type", "module")
            config.set_section_option("post_write_hooks", f"{name}.module", "ruff")
            config.set_section_option("post_write_hooks", f"{name}.options", f"{options} REVISION_SCRIPT_FILENAME")
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    return config


def scripts(schema: Schema) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(schema))


def _options(schema: Schema) -> dict[str, Any]:
    """What every MigrationContext of the schema is configured with (env.py's, the stamp check's, the tests')."""

    def own_tables(name: str | None, type_: str, _parents: Any) -> bool:
        # With one shared PostgreSQL database the others' tables are not this service's to create or drop.
        return type_ != "table" or name in schema.metadata.tables

    return {
        "version_table": schema.version_table,
        "target_metadata": schema.metadata,
        "include_name": own_tables,
        "render_as_batch": True,  # SQLite alters a table by copying it: batch operations do that
        "render_item": _render_item,
        "compare_type": True,
    }


def _render_item(type_: str, obj: Any, _autogen: AutogenContext) -> str | Literal[False]:
    # Revisions name plain SQLAlchemy types, never the app's (UTCDateTime, sqlmodel's AutoString), so an old
    # revision keeps doing what it did however those classes change.
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def migration_context(connection: Connection, schema: Schema) -> MigrationContext:
    return MigrationContext.configure(connection, opts=_options(schema))


def run_environment(metadata: MetaData) -> None:
    """The body of every service's env.py: migrates on the caller's connection, inside its transaction."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("migrations run through open_database or `vidkiln db`, not the alembic command")
    context.configure(connection=connection, **_options(schema_for(metadata)))
    with context.begin_transaction():  # the caller's: nothing new is begun
        context.run_migrations()


def current(connection: Connection, schema: Schema) -> tuple[str, ...]:
    """The revisions the database is at; () when it has none yet (empty, or made before migrations)."""
    return migration_context(connection, schema).get_current_heads()


def upgrade(connection: Connection, schema: Schema, revision: str = "head") -> None:
    """Upgrades the schema inside the connection's transaction, one process at a time."""
    if connection.dialect.name == "postgresql":
        # Replicas may start together: the first migrates, the others wait here and then find nothing to do.
        # SQLite needs nothing: the engine begins every transaction IMMEDIATE, which takes the file's write lock.
        key = int.from_bytes(hashlib.sha256(schema.version_table.encode()).digest()[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    _stamp_unversioned(connection, schema)
    command.upgrade(alembic_config(schema, connection), revision)


def unversioned(connection: Connection, schema: Schema) -> bool:
    """Whether the schema's tables were made before migrations: some of them there, no revision."""
    if current(connection, schema):
        return False
    return bool(set(inspect(connection).get_table_names()) & set(schema.metadata.tables))


def _stamp_unversioned(connection: Connection, schema: Schema) -> None:
    """A database made by create_all before migrations gets the revision it has."""
    if not unversioned(connection, schema):
        return
    migrations = migration_context(connection, schema)
    script = scripts(schema)
    # A build since the last release may already have today's tables; the release itself has the first revision's.
    revision = script.get_current_head() if not compare_metadata(migrations, schema.metadata) else script.get_base()
    assert revision is not None, "a schema's migrations have one first revision"
    logger.warning("%s: tables made before migrations; stamped at revision %s", schema.service, revision)
    migrations.stamp(script, revision)


# Alembic's `context` and `op` are globals of the process: two migrations running at once in one process would
# run each other's operations on each other's connections. One at a time here; between processes, the database's lock.
_IN_PROCESS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


async def migrate(engine: AsyncEngine, schema: Schema, revision: str = "head") -> None:
    """Upgrades in one transaction (SQLite: with foreign keys off, checked before the commit)."""
    async with _IN_PROCESS.setdefault(asyncio.get_running_loop(), asyncio.Lock()), engine.connect() as conn:
        await conn.run_sync(_migrate, schema, revision)


def _migrate(conn: Connection, schema: Schema, revision: str) -> None:
    wanted = {script.revision for script in scripts(schema).get_revisions(revision) if script is not None}
    at = set(current(conn, schema))
    conn.rollback()
    if at == wanted:  # the usual start: nothing to lock, nothing to check
        return
    sqlite = conn.dialect.name == "sqlite"
    # SQLite changes a table by copying and dropping it; a drop with foreign keys on would cascade to the rows
    # that reference it. The pragma is ignored inside a transaction, so it is set on the connection first.
    if sqlite:
        _pragma(conn, "foreign_keys=OFF")
    try:
        with conn.begin():
            before = current(conn, schema)
            upgrade(conn, schema, revision)
            changed = current(conn, schema) != before  # another replica may have done it meanwhile
            if sqlite and changed and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError(f"{schema.service}: a migration left rows referencing nothing; rolled back")
    finally:
        if sqlite:
            _pragma(conn, "foreign_keys=ON")


def _pragma(conn: Connection, pragma: str) -> None:
    cursor = conn.connection.cursor()  # the driver's own connection: no transaction begun
    try:
        cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def history(schema: Schema) -> list[Script]:
    """The schema's revisions, newest first."""
    return list(scripts(schema).walk_revisions())


def revise(schema: Schema, message: str, *, autogenerate: bool) -> Path:
    """Writes the next revision into the service's migrations (autogenerated against an upgraded scratch SQLite
    database when asked); returns its path."""
    rev_id = f"{len(history(schema)) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'head.sqlite3'}")
        try:
            with engine.begin() as conn:
                upgrade(conn, schema)
                made = command.revision(
                    alembic_config(schema, conn), message=message, autogenerate=autogenerate, rev_id=rev_id
                )
        finally:
            engine.dispose()
    assert isinstance(made, Script)
    return Path(made.path)
