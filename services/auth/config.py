"""Auth settings."""

from __future__ import annotations

from pydantic import Field

from services.common.config import BaseServiceSettings


class Settings(BaseServiceSettings):
    token_ttl_seconds: int = Field(300, description="Lifetime of the internal tokens issued for API keys.")
    access_token_minutes: int = Field(15, description="Lifetime of a login's access token.")
    refresh_token_days: int = Field(30, description="Lifetime of a login's refresh token.")
