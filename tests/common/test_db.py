"""UTCDateTime on the real backends: aware UTC values come back, naive ones never go in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, LargeBinary
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select

from services.common.db import Sessions, UTCDateTime, open_database


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
    async with open_database(url, _Table.metadata) as opened:
        yield opened


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


class _Release1(SQLModel, registry=registry()):
    """A table as an older release created it."""


class ThingV1(_Release1, table=True):
    __tablename__ = "things"

    id: int | None = Field(default=None, primary_key=True)
    name: str


class _Release2(SQLModel, registry=registry()):
    """The same table in a newer release: two nullable columns more."""


class ThingV2(_Release2, table=True):
    __tablename__ = "things"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    note: str | None = None
    blob: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


async def test_a_newer_release_adds_its_nullable_columns_to_an_existing_table(
    database_url: str | None, tmp_path: Path
) -> None:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'things.sqlite3'}"
    async with open_database(url, _Release1.metadata) as old, old.begin() as session:
        session.add(ThingV1(name="kept"))
    async with open_database(url, _Release2.metadata) as new:
        async with new.begin() as session:
            session.add(ThingV2(name="added", note="n", blob=b"\x00\x01"))
        async with new() as session:
            rows = (await session.exec(select(ThingV2).order_by(col(ThingV2.id)))).all()
    assert [(r.name, r.note, r.blob) for r in rows] == [("kept", None, None), ("added", "n", b"\x00\x01")]
