"""Customer credentials live only as long as their job: the change that ends a job removes them."""

from __future__ import annotations

from protos.common.v1 import storage_pb2
from services.jobs.models import Job
from services.jobs.protomap import strip_credentials
from services.jobs.states import JobState


def forget_credentials(job: Job) -> None:
    """Removes the sealed credentials of a finished job's source and destination (called by
    `services.jobs.outbox.stage`, in the transaction that finishes the job)."""
    if not JobState(job.status).terminal:
        return
    if job.destination:
        destination = storage_pb2.Destination.FromString(job.destination)
        strip_credentials(destination)
        if destination.SerializeToString() != job.destination:
            job.destination = destination.SerializeToString()
    if job.source_spec:
        source = storage_pb2.Source.FromString(job.source_spec)
        strip_credentials(source)
        if source.SerializeToString() != job.source_spec:
            job.source_spec = source.SerializeToString()
