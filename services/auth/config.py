"""Auth settings."""

from __future__ import annotations

from pydantic import Field

from services.common.config import BaseServiceSettings
from services.common.identity import MAX_TOKEN_LIFETIME

# Every process remembers revoked keys and logins this long: no token may outlive that memory.
_MAX_SECONDS = int(MAX_TOKEN_LIFETIME.total_seconds())


class Settings(BaseServiceSettings):
    token_ttl_seconds: int = Field(
        300, ge=1, le=_MAX_SECONDS, description="Lifetime of the internal tokens issued for API keys."
    )
    access_token_minutes: int = Field(
        15, ge=1, le=_MAX_SECONDS // 60, description="Lifetime of a login's access token."
    )
    refresh_token_days: int = Field(30, description="Lifetime of a login's refresh token.")
