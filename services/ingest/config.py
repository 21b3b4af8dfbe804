"""Ingest settings."""

from __future__ import annotations

from pydantic import Field

from services.common.config import BaseServiceSettings


class Settings(BaseServiceSettings):
    source_connect_timeout: float = Field(10.0, description="Seconds to connect to a source server.")
    source_read_timeout: float = Field(15.0, description="Seconds to wait for a source server's answer.")
