"""Async SQLModel sessions: SQLite by default (WAL, immediate transactions), PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, MetaData, event, inspect, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession

logger = logging.getLogger(__name__)

Sessions = async_sessionmaker[AsyncSession]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every backend (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_engine(url: str) -> AsyncEngine:
    """An engine for the URL; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE transactions."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, open transactions (so they can be IMMEDIATE).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Take the write lock up front: several processes share the file, and a deferred
            # transaction that later upgrades to a writer fails instead of waiting.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _add_missing_columns(conn: Connection, metadata: MetaData) -> None:
    """Adds the nullable columns a newer release declares to tables an older one created (create_all
    makes missing tables only). Anything else a schema change needs is a migration of its own."""
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            kind = column.type.compile(dialect=conn.dialect)
            logger.info("adding column %s.%s (%s)", table.name, column.name, kind)
            conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))


@asynccontextmanager
async def open_database(url: str, metadata: MetaData, *, connect_timeout: float = 30.0) -> AsyncIterator[Sessions]:
    """Connects (retrying while the server starts), creates missing tables, disposes on exit."""
    engine = create_engine(url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + connect_timeout
    try:
        while True:
            try:
                async with engine.begin() as conn:
                    await conn.run_sync(metadata.create_all)
                    await conn.run_sync(_add_missing_columns, metadata)
                break
            except (OperationalError, OSError) as exc:
                if loop.time() >= deadline:
                    raise
                logger.info("database not ready (%s); retrying", exc)
                await asyncio.sleep(0.5)
        yield async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    finally:
        await engine.dispose()
