"""Webhooks queries; they never commit (the use case owns the transaction).

Every SQL statement of the webhooks service is here: subscriptions, the job event log (the feed),
deliveries and their attempts, and the dispatcher's question for due work. Rows are added with
`session.add` by the use case that builds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy.orm import aliased
from sqlmodel import col, delete, exists, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.webhooks.models import Attempt, Delivery, JobEvent, Subscription


async def get_subscription(*, session: AsyncSession, webhook_id: uuid.UUID) -> Subscription | None:
    return await session.get(Subscription, webhook_id)


async def get_account_subscription(
    *, session: AsyncSession, webhook_id: uuid.UUID, account_id: uuid.UUID
) -> Subscription | None:
    """A subscription the account manages (another account's, or a job's one-off callback, is not found)."""
    found = await session.get(Subscription, webhook_id)
    if found is None or found.account_id != account_id or found.job_id is not None:
        return None
    return found


async def count_subscriptions(*, session: AsyncSession, account_id: uuid.UUID) -> int:
    """How many subscriptions the account manages (one-off callbacks not counted)."""
    count = await session.exec(
        select(func.count())
        .select_from(Subscription)
        .where(Subscription.account_id == account_id, col(Subscription.job_id).is_(None))
    )
    return int(count.one())


async def list_subscriptions(*, session: AsyncSession, account_id: uuid.UUID) -> Sequence[Subscription]:
    """The subscriptions the account manages, oldest first."""
    found = await session.exec(
        select(Subscription)
        .where(Subscription.account_id == account_id, col(Subscription.job_id).is_(None))
        .order_by(col(Subscription.created_at), col(Subscription.id))
    )
    return found.all()


async def active_subscribers(*, session: AsyncSession, account_ids: Collection[uuid.UUID]) -> Sequence[Subscription]:
    """The switched-on subscriptions the accounts manage: who hears of their jobs' events."""
    found = await session.exec(
        select(Subscription).where(
            col(Subscription.account_id).in_(account_ids),
            Subscription.is_active == True,  # noqa: E712
            col(Subscription.job_id).is_(None),
        )
    )
    return found.all()


async def subscriptions_by_id(*, session: AsyncSession, ids: Collection[uuid.UUID]) -> Sequence[Subscription]:
    return (await session.exec(select(Subscription).where(col(Subscription.id).in_(ids)))).all()


async def delete_subscription(*, session: AsyncSession, webhook: Subscription) -> None:
    """Removes the subscription with its deliveries and their attempts."""
    await session.exec(delete(Attempt).where(col(Attempt.subscription_id) == webhook.id))
    await session.exec(delete(Delivery).where(col(Delivery.subscription_id) == webhook.id))
    await session.delete(webhook)


async def known_event_ids(*, session: AsyncSession, event_ids: Collection[str]) -> Sequence[str]:
    """Which of the events are logged already (a redelivered message)."""
    return (await session.exec(select(JobEvent.event_id).where(col(JobEvent.event_id).in_(event_ids)))).all()


async def list_events(*, session: AsyncSession, account_id: uuid.UUID, after: int, limit: int) -> Sequence[JobEvent]:
    """The account's job events after sequence number `after`, in arrival order."""
    found = await session.exec(
        select(JobEvent)
        .where(JobEvent.account_id == account_id, col(JobEvent.seq) > after)
        .order_by(col(JobEvent.seq))
        .limit(limit)
    )
    return found.all()


async def get_delivery(*, session: AsyncSession, delivery_id: uuid.UUID) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def deliveries_by_id(*, session: AsyncSession, ids: Collection[uuid.UUID]) -> Sequence[Delivery]:
    return (await session.exec(select(Delivery).where(col(Delivery.id).in_(ids)))).all()


async def due_deliveries(
    *,
    session: AsyncSession,
    now: datetime,
    limit: int,
    skip_subscriptions: Collection[uuid.UUID] = (),
    skip_deliveries: Collection[uuid.UUID] = (),
) -> Sequence[Delivery]:
    """Pending deliveries due by `now`, oldest first: of switched-on subscriptions, none waiting behind an
    earlier pending event of its job to the same subscription, none of those skipped (at their cap, in flight)."""
    earlier = aliased(Delivery)
    blocked = exists().where(
        col(earlier.subscription_id) == col(Delivery.subscription_id),
        col(earlier.job_id) == col(Delivery.job_id),
        col(earlier.state) == "pending",
        col(earlier.event_seq) < col(Delivery.event_seq),
    )
    query = (
        select(Delivery)
        .join(Subscription, col(Subscription.id) == col(Delivery.subscription_id))
        .where(
            Delivery.state == "pending",
            col(Delivery.next_attempt_at) <= now,
            Subscription.is_active == True,  # noqa: E712
            ~blocked,
        )
        .order_by(col(Delivery.next_attempt_at))
        .limit(limit)
    )
    if skip_subscriptions:
        query = query.where(col(Delivery.subscription_id).not_in(skip_subscriptions))
    if skip_deliveries:
        query = query.where(col(Delivery.id).not_in(skip_deliveries))
    return (await session.exec(query)).all()


async def list_attempts(
    *, session: AsyncSession, subscription_id: uuid.UUID, limit: int
) -> list[tuple[Attempt, Delivery]]:
    """The subscription's most recent attempts, newest first, each with its delivery."""
    rows = await session.exec(
        select(Attempt, Delivery)
        .join(Delivery, col(Delivery.id) == col(Attempt.delivery_id))
        .where(Attempt.subscription_id == subscription_id)
        .order_by(col(Attempt.created_at).desc(), col(Attempt.attempt).desc())
        .limit(limit)
    )
    return [(a, d) for a, d in rows.all()]


async def mark_retried(*, session: AsyncSession, delivery_id: uuid.UUID, attempt: int, at: datetime) -> None:
    """Notes on a delivery's attempt number `attempt` when it was retried."""
    await session.exec(
        update(Attempt)
        .where(col(Attempt.delivery_id) == delivery_id, col(Attempt.attempt) == attempt)
        .values(retried_at=at)
    )
