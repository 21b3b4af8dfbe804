"""What the encode use case is wired with: resources, deadlines, and the encodes running on this worker."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from opentelemetry.trace import Tracer

from services.common.blobstore import BlobStore
from services.common.cancel import CancelSignals
from services.common.destinations import Opener
from services.common.events import Publish


@dataclass
class Running:
    """Encodes in progress on this worker, so a cancel message can reach the right one(s)."""

    interrupts: dict[str, set[asyncio.Event]] = field(default_factory=dict)  # a job may run twice (a redelivery)
    canceled: set[str] = field(default_factory=set)

    def cancel(self, job_id: str) -> None:
        self.canceled.add(job_id)
        if len(self.canceled) > 10_000:
            self.canceled.clear()  # only needed while a job runs; the bucket remembers the rest
        for interrupt in self.interrupts.get(job_id, ()):
            interrupt.set()

    def add(self, job_id: str, interrupt: asyncio.Event) -> None:
        self.interrupts.setdefault(job_id, set()).add(interrupt)
        if job_id in self.canceled:
            interrupt.set()

    def remove(self, job_id: str, interrupt: asyncio.Event) -> None:
        interrupts = self.interrupts.get(job_id, set())
        interrupts.discard(interrupt)
        if not interrupts:
            self.interrupts.pop(job_id, None)


@dataclass(frozen=True)
class Deadlines:
    """Seconds each step of a task may go without progress before it is ended."""

    download: float = 30.0  # the source: no byte arrived
    encode: float = 30.0  # the child: no message (progress, log, heartbeat) came
    store: float = 30.0  # the blob store: no byte of the output went out
    deliver: float = 30.0  # customer storage: no byte of the output went out
    publish: float = 10.0  # NATS: no acknowledgement of an event


@dataclass(frozen=True)
class Deps:
    publisher: Publish
    http: aiohttp.ClientSession
    blobs: BlobStore
    scratch: Path
    worker_id: str
    max_source_bytes: int
    stop: asyncio.Event  # set on shutdown: a running task stops and goes back to the queue
    tracer: Tracer
    cancels: CancelSignals
    running: Running
    deadlines: Deadlines = Deadlines()
    opener: Opener | None = None  # opens customer destinations (S3, Google Drive)

    @property
    def worker_alias(self) -> str:
        """The worker as customers see it in job logs: stable, but no host name (operators map it back with
        the service log's start line)."""
        return public_worker(self.worker_id)


def public_worker(worker_id: str) -> str:
    return "worker-" + hashlib.sha256(worker_id.encode()).hexdigest()[:10]
