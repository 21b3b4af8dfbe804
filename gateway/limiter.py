"""Rate limits shared by every gateway: GCRA state per (limit, subject) in a NATS key-value bucket (the store behind
gateway/ratelimit.py)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

import nats.errors
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

logger = logging.getLogger(__name__)

MAX_PERIOD = 3600.0  # longest period a Limit may have: the bucket forgets idle entries soon after it
# A TAT is never more than one period ahead of the moment it was written, so an entry older than the
# longest period is equivalent to none. The margin covers skew between gateway clocks and the server's.
_TTL = MAX_PERIOD + 600.0
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_TRIES = 20  # compare-and-set attempts per request before giving up on a hot key
_TIMEOUT = 0.5  # seconds one request may spend on the store: the limiter must not become the slow part
_STORE_PAUSE = 1.0  # after a store failure, fail open at once for this long instead of waiting again
_WARN_EVERY = 60.0
# Epoch seconds carry ~1e-7 s of rounding per addition; without slack the limit-th request of a burst
# could be refused for a rounding error. A tenth of a millisecond is far below anything a limit means.
_SLACK = 1e-4
_UNAVAILABLE = (TimeoutError, OSError, nats.errors.Error)

_R = TypeVar("_R")


@dataclass(frozen=True)
class Limit:
    """A budget: `limit` requests per `period` seconds, as a burst or spread out."""

    name: str  # e.g. "encode", "encode-create", "media", "login"; [A-Za-z0-9_-]+
    limit: int  # requests allowed per period (>= 1)
    period: float  # seconds

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"limit name {self.name!r} must match [A-Za-z0-9_-]+")
        if self.limit < 1:
            raise ValueError(f"limit {self.name}: limit must be at least 1")
        if not 0 < self.period <= MAX_PERIOD:
            raise ValueError(f"limit {self.name}: period must be in (0, {MAX_PERIOD}] seconds")

    @property
    def interval(self) -> float:
        """Seconds between requests at the sustained rate (GCRA's emission interval)."""
        return self.period / self.limit


@dataclass(frozen=True)
class Decision:
    """The answer for one request, with what the gateway needs for RateLimit-* and Retry-After headers."""

    allowed: bool
    limit: int
    remaining: int  # requests still allowed right now (0 when refused)
    reset_at: float  # epoch seconds when the budget is fully replenished
    retry_after: float  # seconds until one more request would be allowed (0.0 when allowed)
    enforced: bool = True  # False when the store was unavailable and we failed open


@dataclass(frozen=True)
class _State:
    tat: float | None  # None: no entry (never used, expired or unreadable), i.e. a full budget
    revision: int  # 0 when there is no entry


class _Contended(Exception):
    """Every compare-and-set attempt lost to another writer."""


_KNOWN_MAX = 10_000  # keys whose last written state this process remembers


class RateLimiter:
    """GCRA limits (a token bucket of `limit` refilled at `limit/period`) correct across gateway processes."""

    def __init__(self, kv: KeyValue, *, clock: Callable[[], float] = time.time, timeout: float = _TIMEOUT) -> None:
        self._kv = kv
        self._clock = clock
        self._timeout = timeout
        self._queues: dict[str, list[asyncio.Future[Decision]]] = {}  # keys with a write under way
        self._drains: set[asyncio.Future[None]] = set()
        self._known: dict[str, _State] = {}  # what this process last read or wrote, per key
        self._store_down_until = -math.inf
        self._last_warning = -math.inf

    @classmethod
    async def open(
        cls, js: JetStreamContext, *, bucket: str = "RATELIMITS", clock: Callable[[], float] = time.time
    ) -> RateLimiter:
        """Creates (idempotently) the bucket: file storage, history 1, entries expire after MAX_PERIOD + a margin."""
        config = KeyValueConfig(bucket=bucket, history=1, ttl=_TTL, storage=StorageType.FILE, direct=True)
        return cls(await js.create_key_value(config), clock=clock)

    async def hit(self, limit: Limit, subject: str) -> Decision:
        """Counts one request of `subject` (an account id, key id or client IP; any string) against `limit`."""
        return await self._charge(limit, _key(limit, subject), None)

    async def hit_all(self, limits: Sequence[Limit], subject: str) -> Decision:
        """Counts one request of `subject` against every limit; returns the most restrictive decision."""
        return await self.hit_each([(limit, subject) for limit in limits])

    async def hit_each(self, budgets: Sequence[tuple[Limit, str]]) -> Decision:
        """Counts one request against every (limit, subject) budget, e.g. a key's and its account's; returns the
        most restrictive decision.

        A refused request must not use up the other limits' budgets. So every budget is first read without
        charging: the usual refusal (a client over one limit) ends there and writes nothing. Otherwise all are
        charged concurrently; if one of them was emptied between the two steps, the request is refused and the
        charges it made are refunded.
        """
        if not budgets:
            raise ValueError("hit_each needs at least one limit")
        limits = [limit for limit, _ in budgets]
        keys = [_key(limit, subject) for limit, subject in budgets]
        if len(set(keys)) != len(keys):
            raise ValueError("the budgets of one request must be distinct")
        if len(limits) == 1:
            return await self._charge(limits[0], keys[0], None)  # nothing else to protect: charge at once
        looks = await asyncio.gather(*(self._look(limit, key) for limit, key in zip(limits, keys, strict=True)))
        if not all(decision.allowed for decision, _ in looks):
            return _most_restrictive([decision for decision, _ in looks])
        charged = await asyncio.gather(
            *(self._charge(limit, key, state) for limit, key, (_, state) in zip(limits, keys, looks, strict=True))
        )
        if not all(decision.allowed for decision in charged):
            await asyncio.gather(
                *(
                    self._refund(limit, key)
                    for limit, key, decision in zip(limits, keys, charged, strict=True)
                    if decision.allowed and decision.enforced
                )
            )
        return _most_restrictive(charged)

    async def _look(self, limit: Limit, key: str) -> tuple[Decision, _State | None]:
        """What a request would get now, without charging it (state None when the store failed).

        From what this process last wrote when it knows that (the charge's compare-and-set checks
        it anyway); a refusal is always decided on the stored state."""
        known = self._known.get(key)
        if known is not None:
            decision = _decide(limit, known.tat, self._clock())[0]
            if decision.allowed:
                return decision, known
        state = await self._store(limit, lambda: self._read(key))
        if state is None:
            return _unenforced(limit, self._clock()), None
        self._remember(key, state)
        return _decide(limit, state.tat, self._clock())[0], state

    async def _charge(self, limit: Limit, key: str, state: _State | None) -> Decision:
        """Decides and, when allowed, stores the new TAT.

        Requests of one key that arrive while a write of this process is in flight queue up and then
        go together, decided one after another, in a single compare-and-set: under load a round trip
        to the store serves many requests, and every request is still counted exactly.
        """
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(future)  # a write of this key is under way: this request goes with the next one
        else:
            self._queues[key] = queue = [future]
            drain = asyncio.ensure_future(self._drain(limit, key, queue, state))
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        return await future

    async def _drain(self, limit: Limit, key: str, queue: list[asyncio.Future[Decision]], state: _State | None) -> None:
        """Writes for the key's queue until it is empty, each write taking everyone waiting at the time."""
        batch: list[asyncio.Future[Decision]] = []
        try:
            while queue:
                batch, queue[:] = queue[:], []
                step = self._stepper(limit, len(batch))
                decisions = await self._store(limit, partial(self._compare_and_set, key, step, state))
                state = None  # what the caller looked at is only current for the first write
                if decisions is None:
                    decisions = [_unenforced(limit, self._clock())] * len(batch)
                for waiter, decision in zip(batch, decisions, strict=True):
                    if not waiter.done():
                        waiter.set_result(decision)
        except BaseException as exc:
            for waiter in (*batch, *queue):
                if waiter.done():
                    continue
                if isinstance(exc, Exception):
                    waiter.set_exception(exc)
                else:
                    waiter.cancel()
            if not isinstance(exc, Exception):
                raise
        finally:
            del self._queues[key]  # no await since the queue was last seen empty: nobody is left behind

    def _stepper(self, limit: Limit, count: int) -> Callable[[float | None], tuple[list[Decision], float | None]]:
        """GCRA for `count` requests in a row: their decisions and the TAT to store (None: all refused)."""

        def step(tat: float | None) -> tuple[list[Decision], float | None]:
            now, current, changed, decisions = self._clock(), tat, False, []
            for _ in range(count):
                decision, new_tat = _decide(limit, current, now)
                decisions.append(decision)
                if new_tat is not None:
                    current, changed = new_tat, True
            return decisions, current if changed else None

        return step

    async def _refund(self, limit: Limit, key: str) -> None:
        """Gives back one request's worth of budget, undoing a charge for a request refused by another limit."""

        # Subtracting one interval from the current TAT (rather than restoring the one we replaced) keeps
        # the charges other requests made in between. A TAT that ends up in the past is simply a full budget.
        def step(tat: float | None) -> tuple[None, float | None]:
            return None, None if tat is None else tat - limit.interval

        await self._store(limit, partial(self._compare_and_set, key, step, None))

    async def _compare_and_set(
        self, key: str, step: Callable[[float | None], tuple[_R, float | None]], state: _State | None
    ) -> _R:
        """Applies `step` (TAT -> result, TAT to store or None) to the stored TAT, re-reading after conflicts."""
        # What this process last wrote is usually still current: then the write is the only round trip.
        cached = state is None and key in self._known
        state = state or self._known.get(key)
        for attempt in range(1, _TRIES + 1):
            if state is None:
                state = await self._read(key)
                self._remember(key, state)
            result, new_tat = step(state.tat)
            if new_tat is None:
                if cached:  # a refusal is decided on the stored state (it may have expired meanwhile)
                    state, cached = None, False
                    continue
                return result  # nothing to store (a refusal), so there is nothing to race for
            try:
                revision = await self._write(key, new_tat, state.revision)
                self._remember(key, _State(new_tat, revision))
                return result
            except KeyWrongLastSequenceError:
                cached = False
                # Another gateway moved the TAT since we read it: decide again from its value. The jitter
                # keeps gateways that collided from colliding again in lockstep.
                state = None
                await asyncio.sleep(random.uniform(0, 0.001 * attempt))
        raise _Contended

    async def _read(self, key: str) -> _State:
        try:
            entry = await self._kv.get(key)
        except KeyNotFoundError:
            return _State(None, 0)
        revision = entry.revision or 0
        try:
            tat = float((entry.value or b"").decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            tat = math.nan
        if not math.isfinite(tat):
            # Not something we wrote; a full budget is the only sane reading, and the next write replaces it.
            self._warn("rate limit entry %s holds %r; treating it as empty", key, entry.value)
            return _State(None, revision)
        return _State(tat, revision)

    async def _write(self, key: str, tat: float, revision: int) -> int:
        """Stores the TAT if the entry is still at `revision`; the new revision."""
        value = repr(tat).encode("ascii")
        if revision == 0:
            return int(await self._kv.create(key, value))  # fails if another gateway created it first
        return int(await self._kv.update(key, value, last=revision))

    def _remember(self, key: str, state: _State) -> None:
        if len(self._known) >= _KNOWN_MAX and key not in self._known:
            self._known.clear()  # a stale or missing entry only costs one more read
        self._known[key] = state

    async def _store(self, limit: Limit, operation: Callable[[], Awaitable[_R]]) -> _R | None:
        """Runs one store operation within the timeout; None when the store failed or stayed contended."""
        # Failing open is deliberate: the limiter protects capacity, while NATS being down or slow must
        # not take the whole API down with it. After a failure, skip the store for a moment so each
        # request does not wait out its own timeout during an outage.
        if self._clock() < self._store_down_until:
            return None
        try:
            async with asyncio.timeout(self._timeout):
                return await operation()
        except _Contended:
            self._warn("rate limit %s: key still contended after %d tries; allowing the request", limit.name, _TRIES)
        except _UNAVAILABLE as exc:
            self._store_down_until = self._clock() + _STORE_PAUSE
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self._warn("rate limit store unavailable (%s); allowing requests unchecked", detail)
        return None

    def _warn(self, message: str, *args: object) -> None:
        """Logs a warning at most once per minute: during an outage every request would repeat it."""
        now = self._clock()
        if now - self._last_warning >= _WARN_EVERY:
            self._last_warning = now
            logger.warning(message, *args)


def _key(limit: Limit, subject: str) -> str:
    # Hashed: subjects (IPv6 addresses, e-mails) hold characters keys may not, and ids stay out of the bucket.
    return f"{limit.name}.{hashlib.sha256(subject.encode()).hexdigest()[:32]}"


def _decide(limit: Limit, tat: float | None, now: float) -> tuple[Decision, float | None]:
    """GCRA for one more request at `now`: the decision and the TAT to store (None when refused)."""
    interval = limit.interval
    new_tat = max(now if tat is None else tat, now) + interval
    ahead = new_tat - now  # how much of the period the budget is spent
    if ahead > limit.period + _SLACK:
        # Refused requests leave the TAT alone, so hammering does not push the next allowance further away.
        return Decision(False, limit.limit, 0, reset_at=new_tat - interval, retry_after=ahead - limit.period), None
    remaining = min(limit.limit - 1, max(0, math.floor((limit.period - ahead + _SLACK) / interval)))
    return Decision(True, limit.limit, remaining, reset_at=new_tat, retry_after=0.0), new_tat


def _unenforced(limit: Limit, now: float) -> Decision:
    """The fail-open decision: allowed, reported as if the budget were full."""
    return replace(_decide(limit, None, now)[0], enforced=False)


def _most_restrictive(decisions: Sequence[Decision]) -> Decision:
    """The refusal with the longest wait if any, else the allowance with the fewest requests left."""
    refused = [decision for decision in decisions if not decision.allowed]
    if refused:
        return max(refused, key=lambda decision: decision.retry_after)
    tightest = min(decisions, key=lambda decision: (decision.remaining, -decision.reset_at))
    return replace(tightest, enforced=all(decision.enforced for decision in decisions))
