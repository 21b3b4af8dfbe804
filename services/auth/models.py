"""Auth tables: accounts, their API keys and refresh tokens (secrets stored only as hashes)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, String
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.common.db import UTCDateTime


class AuthTable(SQLModel, registry=registry()):
    """Base of the auth service's own tables (its own metadata, created only by auth)."""


class Account(AuthTable, table=True):
    __tablename__ = "auth_accounts"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(sa_column=Column(String(320), unique=True, nullable=False))
    role: str = Field(default="USER", max_length=16)
    password_hash: str | None = Field(default=None, max_length=255)  # argon2id; None: API keys only
    email_verified: bool = False
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_sign_in_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class ApiKey(AuthTable, table=True):
    __tablename__ = "auth_api_keys"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="auth_accounts.id", index=True)
    name: str = Field(max_length=255)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class RefreshToken(AuthTable, table=True):
    """One link of a login's chain: each refresh spends it and issues the next."""

    __tablename__ = "auth_refresh_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="auth_accounts.id", index=True)
    family_id: uuid.UUID = Field(index=True)  # every token descended from one login
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    spent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
