"""Encoder settings."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

from pydantic import Field

from services.common.config import BaseServiceSettings


class Settings(BaseServiceSettings):
    worker_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}",
        description="Name of this worker in job events and logs.",
    )
    scratch_dir: Path | None = Field(None, description="Downloads and temporary files; default data_dir/scratch.")
    task_ack_wait: float = Field(30.0, description="Seconds a task stays leased without a heartbeat.")
    task_max_deliver: int = Field(5, description="Attempts per task before the job fails.")
    max_source_bytes: int = Field(20 * 1024**3, description="Largest source a worker downloads (as ingest's limit).")
    encode_watchdog: float = Field(120.0, description="Seconds an encode may go without progress before it is ended.")

    @property
    def scratch(self) -> Path:
        return self.scratch_dir or self.data_dir / "scratch"
