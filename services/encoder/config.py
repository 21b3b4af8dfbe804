"""Encoder settings."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

from pydantic import Field

from services.common.config import BaseServiceSettings
from services.encoder.deps import Deadlines


class Settings(BaseServiceSettings):
    worker_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}",
        description="Name of this worker in job events and logs.",
    )
    scratch_dir: Path | None = Field(None, description="Downloads and temporary files; default data_dir/scratch.")
    task_ack_wait: float = Field(
        30.0, description="Seconds a task stays leased without progress; then JetStream hands it to another worker."
    )
    task_max_deliver: int = Field(5, description="Attempts per task before the job fails.")
    max_source_bytes: int = Field(20 * 1024**3, description="Largest source a worker downloads (as ingest's limit).")
    # Seconds each step may go without progress before it is ended. Keep them at most task_ack_wait: a step
    # silent for longer loses its lease first (another worker then takes the task over).
    download_deadline: float = Field(30.0, gt=0, description="Downloading the source without a byte arriving.")
    encode_watchdog: float = Field(
        30.0, gt=0, description="The encode child (probe, transcode, poster frame) saying nothing."
    )
    store_deadline: float = Field(30.0, gt=0, description="Storing output and posters in the blob store.")
    deliver_deadline: float = Field(30.0, gt=0, description="Uploading to customer storage without a byte going out.")
    publish_deadline: float = Field(10.0, gt=0, description="Waiting for NATS to acknowledge a job event.")

    @property
    def scratch(self) -> Path:
        return self.scratch_dir or self.data_dir / "scratch"

    def deadlines(self) -> Deadlines:
        return Deadlines(
            download=self.download_deadline,
            encode=self.encode_watchdog,
            store=self.store_deadline,
            deliver=self.deliver_deadline,
            publish=self.publish_deadline,
        )
