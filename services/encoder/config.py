"""Encoder settings."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

from pydantic import Field

from services.common.config import BaseServiceSettings
from services.encoder.deps import Deadlines


def default_concurrency() -> int:
    """Half the cores this process may use, at least two.

    An encode keeps about two cores busy on its own (x264/x265/SVT-AV1 and the decoder are threaded),
    so half the cores keeps them all working without the encodes slowing each other down; and never
    fewer than two, so one long source cannot hold back every short job on a small machine.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(2, cores // 2)


class Settings(BaseServiceSettings):
    worker_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}",
        description="Name of this worker in job events and logs.",
    )
    scratch_dir: Path | None = Field(None, description="Downloads and temporary files; default data_dir/scratch.")
    encoder_concurrency: int = Field(
        default_factory=default_concurrency, ge=1, description="Tasks this worker runs at once, each in its own child."
    )
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
