"""Webhooks tables: subscriptions, the job event log (the feed), deliveries and their attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.common.db import UTCDateTime


class WebhooksTable(SQLModel, registry=registry()):
    """Base of the webhooks service's own tables."""


def _ts(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable))


class Subscription(WebhooksTable, table=True):
    __tablename__ = "webhook_subscriptions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID = Field(index=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    events: list[str] = Field(sa_column=Column(JSON, nullable=False))
    dialect: str = Field(max_length=8)  # encode or media: names, payload and signature header
    secret_sealed: str = Field(sa_column=Column(Text, nullable=False))  # SecretBox token, never the secret
    is_active: bool = True
    # Set on the hidden subscription of one job's one-off callback (on-demand `webhook`): unsigned, one
    # terminal event, never listed; None on every subscription an account manages.
    job_id: uuid.UUID | None = Field(default=None, nullable=True)
    failure_count: int = 0  # consecutive failed attempts
    last_triggered_at: datetime | None = _ts()
    last_failed_at: datetime | None = _ts()
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class JobEvent(WebhooksTable, table=True):
    """Every job.state_changed received, once, in arrival order: the feed behind GET /events."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_account_seq", "account_id", "seq"),)

    # SQLite numbers rows only through an INTEGER PRIMARY KEY; elsewhere a 64-bit sequence.
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    )
    event_id: str = Field(sa_column=Column(String(96), unique=True, nullable=False))
    account_id: uuid.UUID
    job_id: uuid.UUID
    type: str = Field(max_length=16)  # created, queued, running, progress, succeeded, failed, canceled
    progress_step: int = 0
    job: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # jobs.v1.Job at the event
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Delivery(WebhooksTable, table=True):
    """One event for one subscription: its body (signed afresh per attempt) and where its retries stand."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_seq", name="uq_webhook_delivery_event"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "subscription_id", "job_id", "state", "event_seq"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    subscription_id: uuid.UUID = Field(foreign_key="webhook_subscriptions.id", ondelete="CASCADE")
    event_seq: int | None = None  # None for a test event
    event_id: str = Field(max_length=96)  # the webhook-id header: the same on every attempt
    event: str = Field(max_length=32)  # the name the subscription's dialect gives it
    job_id: uuid.UUID | None = None
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(default="pending", max_length=8)  # pending, success, failed
    attempts: int = 0
    max_attempts: int = 1
    next_attempt_at: datetime | None = _ts()
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Attempt(WebhooksTable, table=True):
    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_subscription", "subscription_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    delivery_id: uuid.UUID = Field(foreign_key="webhook_deliveries.id", index=True, ondelete="CASCADE")
    subscription_id: uuid.UUID = Field(foreign_key="webhook_subscriptions.id", ondelete="CASCADE")
    attempt: int
    status: str = Field(max_length=8)  # success, failed
    status_code: int | None = None
    duration_ms: int | None = None
    response_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    next_retry_at: datetime | None = _ts()
    retried_at: datetime | None = _ts()
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
