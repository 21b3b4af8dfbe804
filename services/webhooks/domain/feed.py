"""The event feed: every job event of the account after a cursor, so a receiver that was down catches up."""

from __future__ import annotations

from collections.abc import Sequence

from services.common.identity import Principal
from services.webhooks import repository
from services.webhooks.domain.deps import Deps
from services.webhooks.models import JobEvent

MAX_EVENTS = 1000


async def list_events(deps: Deps, *, principal: Principal, after: int, limit: int) -> Sequence[JobEvent]:
    limit = max(1, min(limit or 100, MAX_EVENTS))
    async with deps.sessions() as session:
        return await repository.list_events(
            session=session, account_id=principal.account_id, after=max(after, 0), limit=limit
        )
