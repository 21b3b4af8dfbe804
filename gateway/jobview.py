"""The gateway's read model of jobs: status polls answered from memory, kept current by jobs.

The jobs service publishes each job's whole record after every committed change (core NATS,
`view.job`). The view keeps the jobs this gateway has been asked about or has just written
(bounded; least recently used out) and replaces an entry only with a snapshot at least as new.
Core NATS delivers at most once, so entries also age: a job still at work is read again after
`live_ttl` seconds without news, a finished one after `done_ttl`; a NATS disconnect forgets them
all. A poll therefore costs no round trip, and a change is seen within milliseconds.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from gateway.auth import CALLER
from gateway.clients import CLIENTS, call_options
from protos.jobs.v1 import jobs_pb2
from services.common import subjects
from services.common.errors import NotFound, R

logger = logging.getLogger(__name__)

_FINISHED = frozenset({jobs_pb2.JOB_STATUS_SUCCEEDED, jobs_pb2.JOB_STATUS_FAILED, jobs_pb2.JOB_STATUS_CANCELED})


@dataclass
class _Entry:
    job: jobs_pb2.Job
    version: tuple[int, int]  # updated_at (seconds, nanos)
    fresh_until: float
    bodies: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # answer kind -> (second, JSON)


def _version(job: jobs_pb2.Job) -> tuple[int, int]:
    return job.updated_at.seconds, job.updated_at.nanos


class JobView:
    def __init__(
        self,
        *,
        live_ttl: float = 5.0,
        done_ttl: float = 60.0,
        capacity: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._live_ttl, self._done_ttl, self._capacity, self._clock = live_ttl, done_ttl, capacity, clock

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, job_id: str) -> jobs_pb2.Job | None:
        """The newest known record, when it is fresh enough to answer with."""
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        if entry.fresh_until <= self._clock():
            del self._entries[job_id]
            return None
        self._entries.move_to_end(job_id)
        return entry.job

    def body(self, job: jobs_pb2.Job, kind: str, render: Callable[[], dict[str, Any]]) -> bytes:
        """The JSON answer of `kind` for this record, rendered at most once a second (answers hold
        times that count down in seconds, e.g. expiresIn); a new record starts afresh."""
        second = int(time.time())
        entry = self._entries.get(job.id)
        if entry is not None and entry.job is job:
            cached = entry.bodies.get(kind)
            if cached is not None and cached[0] == second:
                return cached[1]
        body = json.dumps(render()).encode()
        if entry is not None and entry.job is job:
            entry.bodies[kind] = (second, body)
        return body

    def remember(self, job: jobs_pb2.Job) -> None:
        """A record read or written just now (an older one than we hold is ignored)."""
        self._store(job, known_only=False)

    def update(self, job: jobs_pb2.Job) -> None:
        """A snapshot from the jobs service: it refreshes a job we hold; others are not our business."""
        self._store(job, known_only=True)

    def clear(self) -> None:
        self._entries.clear()

    def _store(self, job: jobs_pb2.Job, *, known_only: bool) -> None:
        entry = self._entries.get(job.id)
        if entry is None and known_only:
            return
        version = _version(job)
        if entry is not None and version < entry.version:
            return  # a late answer or snapshot: we already hold a newer record
        ttl = self._done_ttl if job.status in _FINISHED else self._live_ttl
        self._entries[job.id] = _Entry(job, version, self._clock() + ttl)
        self._entries.move_to_end(job.id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    async def listen(self, nc: NATS) -> Subscription:
        async def received(msg: Msg) -> None:
            try:
                self.update(jobs_pb2.Job.FromString(msg.data))
            except Exception:
                logger.exception("bad job snapshot")

        return await nc.subscribe(subjects.JOB_VIEW, cb=received)


JOB_VIEW = web.AppKey("job_view", JobView)


async def read_job(request: web.Request, job_id: str) -> jobs_pb2.Job:
    """The caller's job, from the view when it is there; another account's is a missing one."""
    view = request.app[JOB_VIEW]
    job = view.get(job_id)
    if job is None:
        job = await request.app[CLIENTS].jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), **call_options(request))
        view.remember(job)
        return job
    if job.deleted or job.account_id != str(request[CALLER].principal.account_id):
        raise NotFound("No such job.", reason=R.JOB_NOT_FOUND)  # the jobs service's own words
    return job


def remember(request: web.Request, job: jobs_pb2.Job) -> jobs_pb2.Job:
    """Read-your-writes: what a create, cancel or confirm answered is what the next poll sees."""
    request.app[JOB_VIEW].remember(job)
    return job
