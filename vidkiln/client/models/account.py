"""Typed answers of the Encode API's accounts, keys, credits, webhooks, events and saved credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vidkiln.client.models._base import EncodeModel


class Balance(EncodeModel):
    available: float
    reserved: float
    trial_grant_remaining: float = 0.0
    trial_expires_at: datetime | None = None


class CreditResult(EncodeModel):
    ok: bool
    operation: str
    job_id: str
    amount: float
    balance: Balance


class TokenPair(EncodeModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int = 0
    refresh_expires_in: int = 0


class ApiKey(EncodeModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    expires_at: datetime | None = None
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    key: str | None = None  # the raw key: only in create_api_key's answer


class Webhook(EncodeModel):
    id: str
    url: str
    events: list[str]
    is_active: bool
    failure_count: int = 0
    last_triggered_at: datetime | None = None
    last_failed_at: datetime | None = None
    created_at: datetime | None = None
    secret: str | None = None  # only in create_webhook's answer


class WebhookDelivery(EncodeModel):
    id: str
    delivery_id: str | None = None
    webhook_id: str
    event: str
    job_id: str | None = None
    status: str
    status_code: int | None = None
    duration_ms: int | None = None
    response_body: str | None = None
    error: str | None = None
    attempt: int = 0
    next_retry_at: datetime | None = None
    retried_at: datetime | None = None
    created_at: datetime | None = None


class WebhookTestResult(EncodeModel):
    ok: bool
    message: str
    delivery: WebhookDelivery


class Redelivered(EncodeModel):
    ok: bool
    delivery_id: str


class EventPage(EncodeModel):
    """GET /events: the account's job events in order; pass `next_cursor` as `after` for the next page."""

    events: list[dict[str, Any]]
    next_cursor: int
    has_more: bool


class FolderJob(EncodeModel):
    job_id: str
    external_id: str | None = None
    file_name: str


class FolderIngestResult(EncodeModel):
    message: str
    jobs: list[FolderJob]
    failed: list[dict[str, Any]] = []


class DriveCredential(EncodeModel):
    id: str
    name: str
    client_email: str
    project_id: str | None = None
    created_at: datetime | None = None


class Deleted(EncodeModel):
    ok: bool
    id: str
