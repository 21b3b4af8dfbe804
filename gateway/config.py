"""Gateway settings."""

from __future__ import annotations

from pydantic import Field

from gateway.limiter import Limit
from gateway.ratelimit import Limits
from services.common.config import BaseServiceSettings


class Settings(BaseServiceSettings):
    http_host: str = Field("127.0.0.1", description="Address the REST API listens on.")
    http_port: int = Field(8080, description="Port the REST API listens on (0: any free port).")
    public_url: str | None = Field(
        None, description="Base URL clients use (links); default: the address the connection reached, never Host."
    )
    max_body_bytes: int = Field(1024 * 1024, description="Largest JSON request body accepted.")
    max_upload_bytes: int = Field(50 * 1024**3, description="Largest source uploaded through the gateway.")
    auth_cache_seconds: float = Field(5.0, description="How long a resolved API key is reused without asking auth.")
    rate_limit_per_minute: int = Field(100, description="Encode API: requests a minute per API key, all routes.")
    rate_limit_encode_per_minute: int = Field(10, description="Encode API: POST /ondemand/encode a minute per key.")
    rate_limit_account_per_minute: int = Field(
        300, description="Encode API: requests a minute per account, all its keys and sessions together."
    )
    rate_limit_encode_account_per_minute: int = Field(
        30, description="Encode API: POST /ondemand/encode a minute per account, all its keys together."
    )
    media_rate_limit_per_hour: int = Field(1000, description="Media API: requests an hour per user.")
    media_upload_per_hour: int = Field(100, description="Media API: file uploads an hour per user.")
    media_generate_per_hour: int = Field(10, description="Media API: video generations an hour per user.")
    media_system_per_hour: int = Field(500, description="Media API: /system requests an hour per user.")
    login_attempts_per_minute: int = Field(10, description="Logins and refreshes a minute per client address.")
    http_header_timeout: float = Field(
        10.0, gt=0, description="Seconds a client has to send a request's line and headers; then it is disconnected."
    )
    http_body_timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds a request body may go without a byte before it is answered 408 (an idle limit: "
        "an upload may take longer in all).",
    )
    http_keepalive_timeout: float = Field(
        75.0, gt=0, description="Seconds an idle keep-alive connection is kept open between requests."
    )

    def limits(self) -> Limits:
        """The configured limits (periods: a minute, or an hour)."""
        return Limits(
            encode=Limit("encode", self.rate_limit_per_minute, 60.0),
            encode_create=Limit("encode-create", self.rate_limit_encode_per_minute, 60.0),
            encode_account=Limit("encode-account", self.rate_limit_account_per_minute, 60.0),
            encode_create_account=Limit("encode-create-account", self.rate_limit_encode_account_per_minute, 60.0),
            media=Limit("media", self.media_rate_limit_per_hour, 3600.0),
            media_upload=Limit("media-upload", self.media_upload_per_hour, 3600.0),
            media_generate=Limit("media-generate", self.media_generate_per_hour, 3600.0),
            media_system=Limit("media-system", self.media_system_per_hour, 3600.0),
            login=Limit("login", self.login_attempts_per_minute, 60.0),
        )
