"""Webhooks settings."""

from __future__ import annotations

from pydantic import Field

from services.common.config import BaseServiceSettings
from services.webhooks.domain import DEFAULT_SCHEDULE


class Settings(BaseServiceSettings):
    webhook_retry_schedule: tuple[float, ...] = Field(
        DEFAULT_SCHEDULE, description="Seconds to wait after each failed attempt (JSON list); its length + 1 attempts."
    )
    webhook_timeout: float = Field(15.0, description="Seconds a receiver has to answer one attempt.")
    webhook_max_per_account: int = Field(25, description="Subscriptions one account may have.")
    webhook_per_subscription: int = Field(8, description="Requests in flight to one subscription at once.")
    webhook_concurrency: int = Field(256, description="Requests in flight in all.")
    public_url: str = Field("http://127.0.0.1:8080", description="The gateway's public base URL (payload links).")
