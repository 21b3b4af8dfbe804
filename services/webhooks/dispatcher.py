"""The delivery loop: sends due deliveries, records every attempt, schedules retries.

- Order: a delivery waits while an earlier delivery of the same job to the same subscription is
  still pending, so one job's events reach one subscription in order.
- Isolation: at most `per_subscription` requests to one subscription at a time, and the query for
  due work skips subscriptions at that cap, so a slow or dead receiver delays nobody else.
- Durability: a delivery stays pending in the database until its attempt is recorded; a crash
  anywhere means it is sent again (at least once), never lost. Attempts are recorded in batches.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from opentelemetry.trace import SpanKind, Tracer

from services.common.clock import utcnow
from services.common.identity import Principal
from services.common.netguard import blocked_reason
from services.webhooks import repository, signing
from services.webhooks.domain.deps import Deps
from services.webhooks.domain.subscriptions import secret_of, send_test_event
from services.webhooks.models import Attempt, Delivery, Subscription

logger = logging.getLogger(__name__)

_TEXT_LIMIT = 2048
_STUCK_REFILL = 0.25  # seconds between refills while only busy subscriptions have work in hand


@dataclass(frozen=True)
class Outcome:
    delivery_id: uuid.UUID
    subscription_id: uuid.UUID
    attempt: int
    at: datetime
    ok: bool
    gone: bool  # the receiver answered 410: no more retries
    status_code: int | None
    duration_ms: int
    response_body: str | None
    error: str | None


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:_TEXT_LIMIT]


class Dispatcher:
    def __init__(
        self,
        deps: Deps,
        http: aiohttp.ClientSession,
        tracer: Tracer,
        *,
        per_subscription: int = 8,
        concurrency: int = 256,
        timeout: float = 15.0,
        poll: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self._deps, self._http, self._tracer = deps, http, tracer
        self._per_subscription, self._concurrency = per_subscription, concurrency
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._poll = poll
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._written = asyncio.Event()
        self._inflight: set[uuid.UUID] = set()  # sent or sending, not yet recorded
        self._busy: Counter[uuid.UUID] = Counter()  # requests open per subscription
        self._outcomes: list[Outcome] = []
        # Fetched and due, not started yet, per subscription in due order.
        self._ready: dict[uuid.UUID, deque[tuple[Delivery, Subscription]]] = {}
        self._prefetch = concurrency * 4
        self._refilled_at = 0.0
        self._has_outcomes = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._secrets: dict[uuid.UUID, tuple[str, str | None]] = {}  # subscription -> (sealed, secret)

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        writer = asyncio.create_task(self._write_loop(stop), name="webhook-writer")
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    started = await self._start_due()
                except Exception:
                    logger.exception("finding due webhook deliveries failed; retrying")
                    started = 0
                if started and len(self._inflight) < self._concurrency:
                    await asyncio.sleep(0.002)  # let answers gather: one query picks up several freed slots
                    continue
                waits = [asyncio.ensure_future(e.wait()) for e in (self._wake, self._written, stop)]
                _, pending = await asyncio.wait(waits, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
                for w in pending:
                    w.cancel()
                self._written.clear()
        finally:
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=self._timeout.total)
            stop.set()
            await writer

    async def _start_due(self) -> int:
        """Starts what the prefetched window allows; refills the window when it runs dry or is stuck."""
        started = self._start_ready()
        if len(self._inflight) >= self._concurrency:
            return started
        # What is in hand waits for busy subscriptions: look again now and then, for the others' work.
        if self._ready and (started or time.monotonic() - self._refilled_at < _STUCK_REFILL):
            return started
        await self._refill()
        self._refilled_at = time.monotonic()
        return started + self._start_ready()

    def _start_ready(self) -> int:
        started = 0
        for webhook_id, queue in list(self._ready.items()):
            while queue and self._busy[webhook_id] < self._per_subscription:
                if len(self._inflight) >= self._concurrency:
                    return started
                delivery, webhook = queue.popleft()
                if delivery.id in self._inflight:
                    continue
                self._inflight.add(delivery.id)
                self._busy[webhook_id] += 1
                task = asyncio.create_task(self._deliver(delivery, webhook))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                started += 1
            if not queue:
                del self._ready[webhook_id]
        return started

    async def _refill(self) -> None:
        """The next due deliveries, oldest first: not in flight, not waiting behind an earlier event of
        their job, not for a subscription that is switched off or already at its cap."""
        full = [s for s, n in self._busy.items() if n >= self._per_subscription]
        async with self._deps.sessions() as session:
            found = await repository.due_deliveries(
                session=session,
                now=utcnow(),
                limit=self._prefetch,
                skip_subscriptions=full,
                skip_deliveries=list(self._inflight),
            )
            wanted = {d.subscription_id for d in found}
            hooks = {w.id: w for w in await repository.subscriptions_by_id(session=session, ids=wanted)}
        self._ready = {}
        for d in found:
            if d.subscription_id in hooks:
                self._ready.setdefault(d.subscription_id, deque()).append((d, hooks[d.subscription_id]))

    async def _deliver(self, delivery: Delivery, webhook: Subscription) -> None:
        try:
            outcome = await self.attempt(delivery, webhook)
        except Exception as exc:  # a bug, not the receiver: record it as a failed attempt all the same
            logger.exception("webhook delivery %s failed unexpectedly", delivery.id)
            outcome = self._failure(delivery, webhook, utcnow(), 0, f"internal error: {type(exc).__name__}")
        finally:
            self._busy[webhook.id] -= 1
            if self._busy[webhook.id] <= 0:
                del self._busy[webhook.id]
        self._outcomes.append(outcome)  # the writer records it
        self._has_outcomes.set()
        self.wake()  # a slot is free: look for more work

    def _secret(self, webhook: Subscription) -> str | None:
        cached = self._secrets.get(webhook.id)
        if cached is None or cached[0] != webhook.secret_sealed:
            cached = (webhook.secret_sealed, secret_of(self._deps, webhook))
            self._secrets[webhook.id] = cached
        return cached[1]

    async def send_test(self, *, principal: Principal, webhook_id: str) -> tuple[Outcome, Delivery]:
        """A `webhook.test` delivery of the caller's subscription, sent now and recorded: what happened."""
        webhook, delivery = await send_test_event(self._deps, principal=principal, webhook_id=webhook_id)
        outcome = await self.attempt(delivery, webhook)
        await record(self._deps, [outcome], self._rng)
        return outcome, delivery

    def _failure(self, delivery: Delivery, webhook: Subscription, at: datetime, ms: int, error: str) -> Outcome:
        return Outcome(delivery.id, webhook.id, delivery.attempts + 1, at, False, False, None, ms, None, _clip(error))

    async def attempt(self, delivery: Delivery, webhook: Subscription) -> Outcome:
        """Posts the delivery once, signed afresh; what happened (nothing is recorded here)."""
        at = utcnow()
        headers = signing.headers(
            dialect=webhook.dialect,
            secret=self._secret(webhook),
            webhook_id=str(webhook.id),
            event=delivery.event,
            msg_id=delivery.event_id,
            timestamp=int(time.time()),
            body=delivery.body,
        )
        started = time.perf_counter()
        with self._tracer.start_as_current_span("webhook deliver", kind=SpanKind.CLIENT) as span:
            span.set_attribute("vidkiln.webhook.id", str(webhook.id))
            span.set_attribute("vidkiln.webhook.event", delivery.event)
            span.set_attribute("vidkiln.webhook.attempt", delivery.attempts + 1)
            try:
                async with self._http.post(
                    webhook.url, data=delivery.body, headers=headers, allow_redirects=False, timeout=self._timeout
                ) as resp:
                    raw = await resp.content.read(_TEXT_LIMIT)
                    status = resp.status
            except Exception as exc:
                ms = int((time.perf_counter() - started) * 1000)
                span.set_attribute("error.type", type(exc).__name__)
                return self._failure(delivery, webhook, at, ms, _describe(exc, self._timeout.total))
            span.set_attribute("http.response.status_code", status)
        ms = int((time.perf_counter() - started) * 1000)
        ok = 200 <= status < 300
        body = raw.decode("utf-8", errors="replace")
        error = None if ok else f"The receiver answered HTTP {status}."
        return Outcome(delivery.id, webhook.id, delivery.attempts + 1, at, ok, status == 410, status, ms, body, error)

    async def _write_loop(self, stop: asyncio.Event) -> None:
        while True:
            if not self._outcomes:
                if stop.is_set() and not self._tasks:
                    return
                self._has_outcomes.clear()
                try:
                    await asyncio.wait_for(self._has_outcomes.wait(), timeout=0.1)
                except TimeoutError:
                    pass
                continue
            batch, self._outcomes = self._outcomes, []
            try:
                await record(self._deps, batch, self._rng)
            except Exception:
                logger.exception("recording %d webhook attempts failed; they will be sent again", len(batch))
            for outcome in batch:
                self._inflight.discard(outcome.delivery_id)
            self._written.set()


def _describe(exc: BaseException, timeout: float | None) -> str:
    blocked = blocked_reason(exc)
    if blocked is not None:
        return blocked.message
    if isinstance(exc, TimeoutError):
        return f"The receiver did not answer within {timeout:.0f} s."
    return f"Could not reach the receiver: {type(exc).__name__}: {exc}"


def next_delay(deps: Deps, attempt: int, rng: random.Random) -> float | None:
    """Seconds before the attempt after `attempt` (1-based); None when the schedule is exhausted."""
    schedule = deps.policy.retry_schedule
    if attempt > len(schedule):
        return None
    spread = deps.policy.jitter
    return schedule[attempt - 1] * (1 + rng.uniform(-spread, spread))


async def record(deps: Deps, outcomes: list[Outcome], rng: random.Random) -> None:
    """Records a batch of attempts in one transaction: the attempt rows, each delivery's state and
    next retry, and each subscription's failure count (10 in a row switch it off)."""
    async with deps.sessions.begin() as session:
        found = await repository.deliveries_by_id(session=session, ids=[o.delivery_id for o in outcomes])
        deliveries = {d.id: d for d in found}
        hooks = await repository.subscriptions_by_id(session=session, ids={o.subscription_id for o in outcomes})
        webhooks = {w.id: w for w in hooks}
        for o in outcomes:
            delivery, webhook = deliveries.get(o.delivery_id), webhooks.get(o.subscription_id)
            if delivery is None or webhook is None:
                continue  # deleted meanwhile
            _apply(deps, o, delivery, webhook, rng)
            session.add(
                Attempt(
                    delivery_id=delivery.id,
                    subscription_id=webhook.id,
                    attempt=o.attempt,
                    status="success" if o.ok else "failed",
                    status_code=o.status_code,
                    duration_ms=o.duration_ms,
                    response_body=_clip(o.response_body),
                    error=o.error,
                    next_retry_at=delivery.next_attempt_at if delivery.state == "pending" else None,
                    created_at=o.at,
                )
            )
            if o.attempt > 1:
                await repository.mark_retried(session=session, delivery_id=delivery.id, attempt=o.attempt - 1, at=o.at)


def _apply(deps: Deps, o: Outcome, delivery: Delivery, webhook: Subscription, rng: random.Random) -> None:
    delivery.attempts = max(delivery.attempts, o.attempt)
    webhook.last_triggered_at = o.at
    if o.ok:
        delivery.state, delivery.next_attempt_at = "success", None
        webhook.failure_count = 0
        return
    webhook.failure_count += 1
    webhook.last_failed_at = o.at
    if webhook.failure_count >= deps.policy.disable_after and webhook.is_active:
        webhook.is_active = False
        logger.warning("webhook %s disabled after %d failed attempts in a row", webhook.id, webhook.failure_count)
    delay = None if o.gone or o.attempt >= delivery.max_attempts else next_delay(deps, o.attempt, rng)
    if delay is None:
        delivery.state, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = o.at + timedelta(seconds=delay)
