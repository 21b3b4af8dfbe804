"""The sweeper: finds accepted jobs whose task never reached NATS, and dispatches them."""

from __future__ import annotations

import asyncio
import logging

from services.jobs import domain

logger = logging.getLogger(__name__)


async def run_sweeper(deps: domain.Deps, *, interval: float, stop: asyncio.Event) -> None:
    """Sweeps every `interval` seconds until stop is set; a failed sweep is retried next round."""
    while not stop.is_set():
        try:
            await domain.sweep(deps)
        except Exception:
            # NATS or the database is down: the jobs stay queued and undispatched until it is back.
            logger.exception("sweep failed; retrying in %.0fs", interval)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
