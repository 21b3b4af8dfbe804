"""Ingest settings."""

from __future__ import annotations

from pydantic import Field

from services.common.config import BaseServiceSettings

DEFAULT_MAX_SOURCE_BYTES = 20 * 1024**3


class Settings(BaseServiceSettings):
    source_connect_timeout: float = Field(10.0, description="Seconds to connect to a source server.")
    source_read_timeout: float = Field(15.0, description="Seconds to wait for a source server's answer.")
    max_source_bytes: int = Field(
        DEFAULT_MAX_SOURCE_BYTES,
        gt=0,
        description="Largest source accepted at submit, by the size its server declares (bytes).",
    )
    unranged_probe_bytes: int = Field(
        256 * 1024**2, gt=0, description="Most a probe reads of a source whose server ignores Range (bytes)."
    )
    unranged_probe_seconds: float = Field(
        6.0, gt=0, description="Longest such a probe takes; keep it under VIDKILN_RPC_TIMEOUT (jobs waits for it)."
    )
