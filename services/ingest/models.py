"""Ingest tables: uploaded files (records of an account) over content stored once per SHA-256."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.common.db import UTCDateTime


class IngestTable(SQLModel, registry=registry()):
    """Base of the ingest service's own tables."""


def _ts(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable))


def _big(default: int = 0) -> Any:
    return Field(default=default, sa_column=Column(BigInteger, nullable=False, default=default))


class FileContent(IngestTable, table=True):
    """Bytes in the blob store, addressed by their digest; removed with the last file referencing them."""

    __tablename__ = "ingest_file_contents"

    sha256: str = Field(primary_key=True, max_length=64)
    blob_key: str = Field(max_length=1024)
    size: int = _big()
    references: int = _big()
    media: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # the probe, once made
    media_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class StoredFile(IngestTable, table=True):
    """One upload of an account: its name and description, and which content it is."""

    __tablename__ = "ingest_files"
    __table_args__ = (
        Index("ix_ingest_files_account_listed", "account_id", "created_at", "id"),
        Index("ix_ingest_files_account_type", "account_id", "file_type", "created_at"),
        Index("ix_ingest_files_account_sha", "account_id", "sha256"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    file_type: str = Field(max_length=16)  # video, audio, image, document, other
    subdirectory: str = Field(default="", max_length=255)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    size: int = _big()
    sha256: str = Field(max_length=64, index=True)
    deduplicated: bool = False
    download_count: int = _big()
    stream_count: int = _big()
    signed_count: int = _big()
    last_accessed_at: datetime | None = _ts()
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class DriveCredential(IngestTable, table=True):
    """A saved Google Drive service-account key of an account; the key JSON is sealed (never in clear)."""

    __tablename__ = "ingest_drive_credentials"
    __table_args__ = (Index("ix_ingest_drive_credentials_account", "account_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID
    name: str = Field(max_length=255)
    client_email: str = Field(max_length=320)
    project_id: str = Field(default="", max_length=255)
    sealed_key: str = Field(sa_column=Column(Text, nullable=False))  # SecretBox, context SAVED_DRIVE_KEY/<id>
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
