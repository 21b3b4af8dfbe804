"""What the jobs use cases need from the outside world."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from protos.common.v1 import media_pb2, storage_pb2
from protos.jobs.v1 import jobs_pb2
from services.common.db import Sessions
from services.common.errors import InvalidArgument, R
from services.common.events import Publish
from services.jobs.domain.credits import TrialPolicy


@dataclass(frozen=True)
class SourceInfo:
    """What ingest learned about a source when it accepted it."""

    filename: str
    size: int
    probe: media_pb2.MediaProbe | None = None
    probe_error: str = ""

    @property
    def duration(self) -> float | None:
        return self.probe.duration_sec if self.probe is not None and self.probe.duration_sec > 0 else None


@dataclass(frozen=True)
class Policy:
    max_running_per_account: int = 4  # jobs of one account at workers at once: others wait their turn
    trial: TrialPolicy = field(default_factory=TrialPolicy)
    dispatch_grace: float = 5.0  # seconds before the sweeper publishes a claimed task again


async def _unheard(_job: jobs_pb2.Job) -> None:
    return None


async def _unchecked(_destination: storage_pb2.Destination) -> None:
    return None


async def _unresolved(_ref: storage_pb2.SourceRef, _probe: bool) -> tuple[storage_pb2.Source, SourceInfo]:
    raise InvalidArgument("This server resolves no source references.", reason=R.REQUEST_INVALID)


async def _no_destinations(_ref: storage_pb2.DestinationRef) -> storage_pb2.Destination:
    raise InvalidArgument("This server resolves no destinations.", reason=R.REQUEST_INVALID)


async def _no_callbacks(_url: str) -> str:
    raise InvalidArgument("This server delivers no callbacks.", reason=R.REQUEST_INVALID)


@dataclass(frozen=True)
class Deps:
    sessions: Sessions
    publisher: Publish
    inspect_source: Callable[[storage_pb2.Source, bool], Awaitable[SourceInfo]]
    announce_cancel: Callable[[str], Awaitable[None]]
    delete_objects: Callable[[Sequence[str]], Awaitable[int]]
    policy: Policy = field(default_factory=Policy)
    # The whole record after each committed change, for read models (the gateway's job view).
    announce_job: Callable[[jobs_pb2.Job], Awaitable[None]] = _unheard
    # Asks ingest whether a customer destination takes its credentials (a 4xx when not).
    check_destination: Callable[[storage_pb2.Destination], Awaitable[None]] = _unchecked
    # Asks ingest, the owner of sources, to resolve what a caller named (its file, its bucket, its credential).
    resolve_source: Callable[[storage_pb2.SourceRef, bool], Awaitable[tuple[storage_pb2.Source, SourceInfo]]] = (
        _unresolved
    )
    resolve_destination: Callable[[storage_pb2.DestinationRef], Awaitable[storage_pb2.Destination]] = _no_destinations
    # Asks webhooks whether a one-off callback URL may be posted to (the address rules of every webhook).
    check_callback: Callable[[str], Awaitable[str]] = _no_callbacks
