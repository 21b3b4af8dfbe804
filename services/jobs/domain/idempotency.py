"""Idempotency-Key: a repeat of a create with the same key and body gets the first answer.

begin() claims the key before any work (a concurrent repeat then sees it pending: 409
idempotency_in_progress); the create's own transaction stores its answer with finish(); a failed
create gives the key back with abandon(). A claim whose process died is taken over after a
minute; an answer is kept for 24 hours.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.clock import utcnow
from services.common.db import Sessions
from services.common.errors import Conflict, R
from services.jobs import repository
from services.jobs.models import IdempotencyRecord

KEEP = timedelta(hours=24)
_CLAIM = timedelta(minutes=1)


@dataclass(frozen=True)
class Idem:
    key: str
    route: str  # one namespace per create route: a key reused on another route is a different request
    request_hash: str  # sha256 of the canonical request body


async def _record(
    session: AsyncSession, account_id: uuid.UUID, idem: Idem, *, lock: bool = False
) -> IdempotencyRecord | None:
    return await repository.get_idempotency_record(
        session=session, account_id=account_id, route=idem.route, key=idem.key, lock=lock
    )


async def begin(sessions: Sessions, account_id: uuid.UUID, idem: Idem) -> bytes | None:
    """Claims the key; the stored answer instead when this request was already answered."""
    now = utcnow()
    for _ in range(3):
        try:
            async with sessions.begin() as session:
                record = await _record(session, account_id, idem, lock=True)
                if record is None:
                    session.add(_claim(account_id, idem, now))
                    return None
                replay = _decide(record, idem, now)
                if replay is not None:
                    return replay
                # An old answer, or a claim nobody finished: take the key over.
                record.request_hash, record.state, record.response = idem.request_hash, "pending", None
                record.locked_until, record.created_at = now + _CLAIM, now
                session.add(record)
                return None
        except IntegrityError:
            continue  # a concurrent request inserted it first: look again
    raise Conflict("A request with this Idempotency-Key is in progress.", reason=R.IDEMPOTENCY_IN_PROGRESS)


def _claim(account_id: uuid.UUID, idem: Idem, now: datetime) -> IdempotencyRecord:
    return IdempotencyRecord(
        account_id=account_id,
        route=idem.route,
        key=idem.key,
        request_hash=idem.request_hash,
        state="pending",
        locked_until=now + _CLAIM,
        created_at=now,
    )


def _decide(record: IdempotencyRecord, idem: Idem, now: datetime) -> bytes | None:
    """The answer to replay; None when the record may be taken over; raises on a conflict."""
    if record.created_at + KEEP <= now:
        return None
    if record.request_hash != idem.request_hash:
        raise Conflict("This Idempotency-Key was used with a different request.", reason=R.IDEMPOTENCY_CONFLICT)
    if record.state == "done" and record.response is not None:
        return record.response
    if record.locked_until > now:
        raise Conflict("A request with this Idempotency-Key is in progress.", reason=R.IDEMPOTENCY_IN_PROGRESS)
    return None


async def finish(session: AsyncSession, account_id: uuid.UUID, idem: Idem, response: bytes) -> None:
    """Stores the answer, in the create's own transaction."""
    record = await _record(session, account_id, idem)
    if record is None:
        record = _claim(account_id, idem, utcnow())
    record.state, record.response = "done", response
    session.add(record)


async def abandon(sessions: Sessions, account_id: uuid.UUID, idem: Idem) -> None:
    """Gives the key back after a failed create (only answers that succeeded are replayed)."""
    async with sessions.begin() as session:
        record = await _record(session, account_id, idem)
        if record is not None and record.state == "pending":
            await repository.delete_idempotency_record(session=session, record=record)


async def purge(sessions: Sessions) -> int:
    """Drops answers older than 24 hours."""
    async with sessions.begin() as session:
        return await repository.purge_idempotency_records(session=session, created_before=utcnow() - KEEP)
