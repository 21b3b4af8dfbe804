"""Jobs tables: the job record and its log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.common.db import UTCDateTime


class JobsTable(SQLModel, registry=registry()):
    """Base of the jobs service's own tables."""


def _ts(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable))


class Job(JobsTable, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        # The listing and its count: an account's jobs that are not deleted, newest first, from the index alone.
        Index("ix_jobs_account_listed", "account_id", "deleted_at", "created_at", "id"),
        Index("ix_jobs_account_status", "account_id", "status", "dispatched_at"),
        Index("ix_jobs_status_dispatched", "status", "dispatched_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID
    status: str = Field(max_length=16)
    mode: str = Field(default="on_demand", max_length=16)  # on_demand (queued at once) or classic
    options: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    source_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source_key: str | None = Field(default=None, max_length=1024)  # an upload in the blob store
    uploaded_at: datetime | None = _ts()
    duration_sec: float | None = None  # of the source, once probed
    estimate_neu: int | None = None
    reserved_neu: int = 0
    charged_neu: int | None = None
    pricing: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    source_filename: str = Field(default="", max_length=255)
    external_id: str | None = Field(default=None, max_length=255)
    metadata_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    priority: str = Field(default="normal", max_length=16)
    progress: float = 0.0
    attempt: int = 0
    output_expiry_seconds: int = 86400
    output_key: str = Field(max_length=1024)
    output_filename: str = Field(max_length=255)
    output_size: int | None = None
    output_content_type: str | None = Field(default=None, max_length=128)
    output_expires_at: datetime | None = _ts()
    encoder: str | None = Field(default=None, max_length=64)
    source_probe: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # common.v1.Source of a file in a customer's bucket or Drive, its credentials sealed until the job ends.
    source_spec: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # common.v1.Destination: a customer bucket or folder, its credentials sealed until the job ends.
    destination: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    callback_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # on-demand `webhook`
    output_probe: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    thumbnails: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    effective_passes: int | None = None
    warnings: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    failure_reason: str | None = Field(default=None, max_length=64)
    failure_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    queued_at: datetime | None = _ts()
    dispatched_at: datetime | None = _ts()  # claimed for a worker by the scheduler
    published: bool = False  # its task reached the TASKS stream
    started_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()
    files_deleted_at: datetime | None = _ts()
    deleted_at: datetime | None = _ts()  # hidden from every view; the billing history stays
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class JobLog(JobsTable, table=True):
    __tablename__ = "job_logs"

    id: int | None = Field(default=None, primary_key=True)
    job_id: uuid.UUID = Field(foreign_key="jobs.id", index=True)
    level: str = Field(max_length=8)
    attempt: int = 0
    message: str = Field(sa_column=Column(Text, nullable=False))
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class CreditAccount(JobsTable, table=True):
    """An account's credits (NEU): bought or granted, a trial grant that expires, and held amounts."""

    __tablename__ = "credit_accounts"

    account_id: uuid.UUID = Field(primary_key=True)
    paid: int = 0
    trial: int = 0
    trial_expires_at: datetime | None = _ts()
    reserved: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Reservation(JobsTable, table=True):
    """Credits held for one job, by pool, until the job is settled or released."""

    __tablename__ = "credit_reservations"

    job_id: uuid.UUID = Field(primary_key=True)
    account_id: uuid.UUID = Field(index=True)
    trial_part: int = 0
    paid_part: int = 0
    charged: int = 0
    state: str = Field(default="held", max_length=16)  # held, settled, released
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class CallerHold(JobsTable, table=True):
    """Credits a caller set aside for one of its jobs through POST /tokens/reserve: its own, apart from the
    reservation the platform holds for the job it runs (which only the job's outcome settles)."""

    __tablename__ = "credit_caller_holds"

    job_id: uuid.UUID = Field(primary_key=True)
    account_id: uuid.UUID = Field(index=True)
    trial_part: int = 0
    paid_part: int = 0
    charged: int = 0  # what /tokens/deduct took from it
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class LedgerEntry(JobsTable, table=True):
    """Append-only: every change of an account's credits, with the balances after it."""

    __tablename__ = "credit_ledger"

    id: int | None = Field(default=None, primary_key=True)
    account_id: uuid.UUID = Field(index=True)
    job_id: uuid.UUID | None = None
    kind: str = Field(max_length=16)  # grant, trial_grant, reserve, release, deduct
    amount: int
    paid_after: int
    trial_after: int
    reserved_after: int
    note: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class IdempotencyRecord(JobsTable, table=True):
    """The first answer to a create, replayed for a repeat with the same key and body."""

    __tablename__ = "idempotency_keys"

    account_id: uuid.UUID = Field(primary_key=True)
    route: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    state: str = Field(max_length=16)  # pending, done
    locked_until: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    response: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class OutboxEvent(JobsTable, table=True):
    """A job.state_changed staged in the transaction of the change it reports; removed once published.

    Rows are written by `services.jobs.outbox.stage`, which every use case that changes a job calls in
    the change's transaction, whenever its status changes (or its progress reaches another ten percent);
    the sweeper publishes what a crash left behind.
    """

    __tablename__ = "job_outbox"

    id: int | None = Field(default=None, primary_key=True)
    job_id: uuid.UUID = Field(index=True)
    msg_id: str = Field(max_length=96)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
