"""UTCDateTime on the real backends (aware UTC values come back, naive ones never go in); what open_database refuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.db import Sessions, UTCDateTime, create_engine, open_database
from services.jobs.models import Job, JobsTable
from tests.harness import free_port


class _Table(SQLModel, registry=registry()):
    """This test's own metadata, apart from every service's."""


class Stamp(_Table, table=True):
    __tablename__ = "stamps"

    id: int | None = Field(default=None, primary_key=True)
    label: str
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


_PARIS = timezone(timedelta(hours=2))


@pytest.fixture
async def sessions(database_url: str | None, tmp_path: Path) -> AsyncIterator[Sessions]:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'stamps.sqlite3'}"
    engine = create_engine(url)  # a table of this test's: created as declared (no service migrates it)
    async with engine.begin() as conn:
        await conn.run_sync(_Table.metadata.create_all)
    yield async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    await engine.dispose()


async def _add(sessions: Sessions, **stamps: datetime) -> None:
    async with sessions.begin() as session:
        session.add_all([Stamp(label=label, at=at) for label, at in stamps.items()])


async def test_an_aware_timestamp_comes_back_as_the_same_instant_in_utc(sessions: Sessions) -> None:
    written = datetime(2030, 3, 9, 12, 30, 15, 123456, tzinfo=_PARIS)

    await _add(sessions, paris=written)
    async with sessions() as session:
        stamp = (await session.exec(select(Stamp))).one()

    assert stamp.at == written
    assert stamp.at.tzinfo is UTC
    assert stamp.at == datetime(2030, 3, 9, 10, 30, 15, 123456, tzinfo=UTC)


async def test_comparisons_use_the_instant_not_the_wall_clock(sessions: Sessions) -> None:
    # 12:00 in Paris is earlier than 11:00 UTC, although its wall clock reads later.
    await _add(
        sessions, paris=datetime(2030, 3, 9, 12, 0, tzinfo=_PARIS), london=datetime(2030, 3, 9, 11, 0, tzinfo=UTC)
    )
    cutoff = datetime(2030, 3, 9, 12, 30, tzinfo=_PARIS)  # 10:30 UTC

    async with sessions() as session:
        before = (await session.exec(select(Stamp.label).where(col(Stamp.at) < cutoff))).all()
        ordered = (await session.exec(select(Stamp.label).order_by(col(Stamp.at)))).all()

    assert list(before) == ["paris"]
    assert list(ordered) == ["paris", "london"]


async def test_a_naive_timestamp_is_refused(sessions: Sessions) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await _add(sessions, naive=datetime(2030, 3, 9, 12, 0))

    async with sessions() as session:
        assert (await session.exec(select(Stamp))).all() == []


async def test_tables_without_migrations_are_refused(tmp_path: Path) -> None:
    # Every table is made by its service's migrations; a metadata that has none is a mistake, not a create_all.
    with pytest.raises(LookupError, match="has no migrations"):
        async with open_database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", _Table.metadata):
            pass


async def test_a_database_that_never_answers_fails_after_the_connect_timeout() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"  # nothing listens there
    with pytest.raises((OperationalError, OSError)):
        async with open_database(url, JobsTable.metadata, connect_timeout=1.0):
            pass


async def test_a_server_that_starts_later_is_waited_for(database_url: str | None) -> None:
    if database_url is None:
        pytest.skip("SQLite opens a file: there is no server to wait for")
    host, _, rest = database_url.rpartition("@")[2].partition(":")
    server_port, name = int(rest.partition("/")[0]), rest.partition("/")[2]
    port = free_port()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, server_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    url = f"{database_url.rpartition('@')[0]}@127.0.0.1:{port}/{name}"
    opening = asyncio.create_task(_open_and_count(url))
    await asyncio.sleep(1.5)  # refused meanwhile: the database is "still starting"
    assert not opening.done()
    server = await asyncio.start_server(forward, "127.0.0.1", port)
    try:
        assert await asyncio.wait_for(opening, timeout=20) == 0
    finally:
        server.close()


async def _open_and_count(url: str) -> int:
    async with open_database(url, JobsTable.metadata, connect_timeout=15.0) as sessions, sessions() as session:
        return len((await session.exec(select(Job))).all())
