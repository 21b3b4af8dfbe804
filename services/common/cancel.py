"""Cancel signals: a core NATS message stops a running encode; a key-value entry stops a later one.

jobs announces a cancellation after committing it; encoders listen for the message while they
run and look the job up in the bucket before they start a task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from protos.jobs.v1 import events_pb2
from services.common import subjects

logger = logging.getLogger(__name__)

_KEEP = 7 * 24 * 3600.0  # seconds a cancellation is remembered (longer than any task waits)


class CancelSignals:
    def __init__(self, nc: NATS, kv: KeyValue) -> None:
        self._nc = nc
        self._kv = kv

    @classmethod
    async def open(cls, nc: NATS, js: JetStreamContext) -> CancelSignals:
        """Creates the bucket if needed (creating an identical bucket again is a no-op)."""
        kv = await js.create_key_value(
            KeyValueConfig(bucket=subjects.CANCELED_BUCKET, ttl=_KEEP, storage=StorageType.FILE)
        )
        return cls(nc, kv)

    async def announce(self, job_id: str) -> None:
        """Remembers the cancellation, then tells running workers."""
        await self._kv.put(job_id, b"1")
        message = events_pb2.CancelRequested(job_id=job_id)
        await self._nc.publish(subjects.CANCEL_JOB, message.SerializeToString())

    async def was_canceled(self, job_id: str) -> bool:
        try:
            await self._kv.get(job_id)
        except KeyNotFoundError:
            return False
        return True

    async def listen(self, on_cancel: Callable[[str], None]) -> Subscription:
        """Calls on_cancel(job_id) for each cancellation announced from now on."""

        async def received(msg: Msg) -> None:
            try:
                on_cancel(events_pb2.CancelRequested.FromString(msg.data).job_id)
            except Exception:
                logger.exception("bad cancel message")

        return await self._nc.subscribe(subjects.CANCEL_JOB, cb=received)
