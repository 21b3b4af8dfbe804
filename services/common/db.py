"""Async SQLModel sessions: SQLite by default (WAL, immediate transactions), PostgreSQL by URL; schemas migrated
at open (services.common.migrations)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import migrations

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


@asynccontextmanager
async def open_database(url: str, metadata: MetaData, *, connect_timeout: float = 30.0) -> AsyncIterator[Sessions]:
    """Connects (retrying while the server starts), upgrades the tables of `metadata` to its newest migration
    (a database made before migrations included), disposes on exit."""
    schema = migrations.schema_for(metadata)
    engine = create_engine(url)
    try:
        await _connect(engine, connect_timeout)
        await migrations.migrate(engine, schema)
        yield async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    finally:
        await engine.dispose()


async def _connect(engine: AsyncEngine, timeout: float) -> None:
    """Waits until the database takes a connection: a server started with the platform may still be booting."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            async with engine.connect():
                return
        except (OperationalError, OSError) as exc:
            if loop.time() >= deadline:
                raise
            logger.info("database not ready (%s); retrying", exc)
            await asyncio.sleep(0.5)
