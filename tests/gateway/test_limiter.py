"""The GCRA rate limiter on a real nats-server: bursts, refills, several gateways, hit_all, failing open."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NATS
from nats.js.api import KeyValueConfig, StorageType

from gateway.limiter import MAX_PERIOD, Decision, Limit, RateLimiter
from services.common.events import connect_nats
from tests.harness import NatsServer

_START = 1_700_000_000.0
_ENCODE = Limit("encode", 10, 60.0)


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, now: float = _START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def nc(nats: NatsServer) -> AsyncIterator[NATS]:
    client = await connect_nats(nats.url, name="test")
    yield client
    await client.close()


@pytest.fixture
async def nc2(nats: NatsServer) -> AsyncIterator[NATS]:
    """A second connection: a second gateway process."""
    client = await connect_nats(nats.url, name="test-2")
    yield client
    await client.close()


@pytest.fixture
async def limiter(nc: NATS, clock: FakeClock) -> RateLimiter:
    return await RateLimiter.open(nc.jetstream(), clock=clock)


@pytest.fixture
async def limiter2(nc2: NATS, clock: FakeClock) -> RateLimiter:
    return await RateLimiter.open(nc2.jetstream(), clock=clock)


def _assert_consistent(decision: Decision, now: float) -> None:
    """What the gateway turns into headers (RateLimit-*, Retry-After) must agree with itself."""
    assert 0 <= decision.remaining < decision.limit
    assert decision.reset_at >= now
    if decision.allowed:
        assert decision.retry_after == 0.0
    else:
        assert decision.remaining == 0
        assert decision.retry_after > 0
        assert decision.reset_at >= now + decision.retry_after


async def test_a_burst_of_limit_then_one_per_interval(limiter: RateLimiter, clock: FakeClock) -> None:
    for i in range(10):
        decision = await limiter.hit(_ENCODE, "acct-1")
        assert decision == Decision(True, 10, remaining=9 - i, reset_at=_START + 6.0 * (i + 1), retry_after=0.0)

    refused = await limiter.hit(_ENCODE, "acct-1")
    assert refused == Decision(False, 10, remaining=0, reset_at=_START + 60.0, retry_after=6.0)
    _assert_consistent(refused, clock.now)
    # Refusals do not spend budget, so asking again changes nothing.
    assert await limiter.hit(_ENCODE, "acct-1") == refused

    clock.advance(5.9)
    assert not (await limiter.hit(_ENCODE, "acct-1")).allowed
    clock.advance(0.1)
    again = await limiter.hit(_ENCODE, "acct-1")
    assert again == Decision(True, 10, remaining=0, reset_at=_START + 66.0, retry_after=0.0)
    assert not (await limiter.hit(_ENCODE, "acct-1")).allowed  # no second burst at the edge

    clock.advance(66.0)  # idle for a whole period: a full budget again
    assert (await limiter.hit(_ENCODE, "acct-1")).remaining == 9


async def test_two_gateways_alternating_share_one_budget(
    limiter: RateLimiter, limiter2: RateLimiter, clock: FakeClock
) -> None:
    decisions = [await (limiter if i % 2 else limiter2).hit(_ENCODE, "acct-1") for i in range(14)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False] * 4
    assert [d.remaining for d in decisions[:10]] == list(range(9, -1, -1))
    clock.advance(6.0)
    assert (await limiter2.hit(_ENCODE, "acct-1")).allowed
    assert not (await limiter.hit(_ENCODE, "acct-1")).allowed


async def test_two_gateways_concurrently_never_allow_more_than_the_limit(
    limiter: RateLimiter, limiter2: RateLimiter
) -> None:
    decisions = await asyncio.gather(*(gw.hit(_ENCODE, "acct-1") for _ in range(20) for gw in (limiter, limiter2)))
    allowed = [d for d in decisions if d.allowed]
    assert all(d.enforced for d in decisions)
    # Exactly the limit, each seeing a different remaining count: compare-and-set ordered them all.
    assert sorted(d.remaining for d in allowed) == list(range(10))


async def test_subjects_and_limit_names_are_independent(limiter: RateLimiter) -> None:
    login = Limit("login", 10, 60.0)
    for _ in range(10):
        await limiter.hit(_ENCODE, "acct-1")
    assert not (await limiter.hit(_ENCODE, "acct-1")).allowed
    assert (await limiter.hit(_ENCODE, "acct-2")).remaining == 9
    assert (await limiter.hit(login, "acct-1")).remaining == 9
    assert (await limiter.hit(_ENCODE, "2001:db8::1")).remaining == 9  # any string is a subject


async def test_hit_all_refused_by_the_tighter_limit_keeps_the_looser_budget(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    create = Limit("encode-create", 2, 60.0)
    first = await limiter.hit_all([_ENCODE, create], "acct-1")
    assert first == Decision(True, 2, remaining=1, reset_at=_START + 30.0, retry_after=0.0)  # fewest remaining
    assert (await limiter.hit_all([_ENCODE, create], "acct-1")).remaining == 0
    for _ in range(5):
        refused = await limiter.hit_all([_ENCODE, create], "acct-1")
        assert refused == Decision(False, 2, remaining=0, reset_at=_START + 60.0, retry_after=30.0)
        _assert_consistent(refused, clock.now)
    # Two requests got through, so the looser limit was charged twice, not seven times.
    assert (await limiter.hit(_ENCODE, "acct-1")).remaining == 10 - 3


async def test_hit_all_returns_the_longest_wait(limiter: RateLimiter, clock: FakeClock) -> None:
    short, long = Limit("short", 1, 10.0), Limit("long", 1, 30.0)
    assert (await limiter.hit_all([short, long], "acct-1")).allowed
    refused = await limiter.hit_all([short, long], "acct-1")
    assert (refused.allowed, refused.retry_after, refused.reset_at) == (False, 30.0, _START + 30.0)
    _assert_consistent(refused, clock.now)
    with pytest.raises(ValueError):
        await limiter.hit_all([], "acct-1")
    with pytest.raises(ValueError):
        await limiter.hit_all([short, Limit("short", 5, 10.0)], "acct-1")


async def test_hit_all_racing_gateways_refund_what_refused_requests_were_charged(
    limiter: RateLimiter, limiter2: RateLimiter
) -> None:
    tight, loose = Limit("tight", 3, 60.0), Limit("loose", 100, 60.0)
    decisions = await asyncio.gather(
        *(gw.hit_all([loose, tight], "acct-1") for _ in range(15) for gw in (limiter, limiter2))
    )
    assert all(d.enforced for d in decisions)
    assert sum(d.allowed for d in decisions) == 3
    # Most of the 30 passed the first look and charged `loose` before `tight` ran out: all were given back.
    assert (await limiter.hit(loose, "acct-1")).remaining == 100 - 3 - 1


async def test_fails_open_quickly_when_nats_is_gone(
    nc: NATS, limiter: RateLimiter, nats: NatsServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await limiter.hit(_ENCODE, "acct-1")
    nats.stop()
    caplog.set_level(logging.WARNING, logger="gateway.limiter")

    started = time.monotonic()
    decision = await limiter.hit(_ENCODE, "acct-1")
    assert decision == Decision(True, 10, remaining=9, reset_at=_START + 6.0, retry_after=0.0, enforced=False)
    assert time.monotonic() - started < 2.0

    # Right after a failure the store is not even asked, so an outage costs one timeout, not one per request.
    started = time.monotonic()
    assert not (await limiter.hit_all([_ENCODE, Limit("login", 5, 60.0)], "acct-1")).enforced
    assert time.monotonic() - started < 0.2

    clock.advance(5.0)  # asks the store again (and times out again), but does not warn again within a minute
    assert not (await limiter.hit(_ENCODE, "acct-1")).enforced
    warnings = [r for r in caplog.records if r.name == "gateway.limiter"]
    assert len(warnings) == 1
    assert "unavailable" in warnings[0].getMessage()

    # Back to enforcing once NATS is back (this also lets the client flush what it buffered, so it closes cleanly).
    nats.start()
    async with asyncio.timeout(5):
        while not nc.is_connected:
            await asyncio.sleep(0.05)
    clock.advance(1.0)
    assert (await limiter.hit(_ENCODE, "acct-1")).enforced


async def test_bucket_lets_idle_entries_expire(nc: NATS, limiter: RateLimiter) -> None:
    js = nc.jetstream()
    info = await js.stream_info("KV_RATELIMITS")
    assert info.config.max_age is not None and info.config.max_age >= MAX_PERIOD
    assert info.config.max_msgs_per_subject == 1
    assert info.config.storage == StorageType.FILE
    await RateLimiter.open(js)  # opening again (another gateway starting) is a no-op

    await limiter.hit(_ENCODE, "acct-1")
    kv = await js.key_value("RATELIMITS")
    [key] = await kv.keys()
    assert re.fullmatch(r"encode\.[0-9a-f]{32}", key)
    assert float((await kv.get(key)).value or b"") == _START + 6.0


async def test_an_expired_or_deleted_entry_is_a_full_budget(nc: NATS, clock: FakeClock) -> None:
    js = nc.jetstream()
    kv = await js.create_key_value(KeyValueConfig(bucket="SHORT", ttl=1.0, storage=StorageType.FILE))
    limiter = RateLimiter(kv, clock=clock)
    for _ in range(10):
        await limiter.hit(_ENCODE, "acct-1")
    await asyncio.sleep(1.5)  # the server drops the entry (the fake clock has not moved)
    assert (await limiter.hit(_ENCODE, "acct-1")).remaining == 9

    [key] = await kv.keys()
    await kv.delete(key)  # a tombstone: creating over it must work too
    assert (await limiter.hit(_ENCODE, "acct-1")) == Decision(True, 10, 9, _START + 6.0, 0.0)

    await kv.put(key, b"not a number")  # never written by us: read as empty, then replaced
    assert (await limiter.hit(_ENCODE, "acct-1")).remaining == 9
    assert (await limiter.hit(_ENCODE, "acct-1")).remaining == 8


@pytest.mark.parametrize(
    ("name", "limit", "period"),
    [("bad.name", 1, 1.0), ("", 1, 1.0), ("ok", 0, 1.0), ("ok", 1, 0.0), ("ok", 1, MAX_PERIOD + 1)],
)
def test_limits_are_validated(name: str, limit: int, period: float) -> None:
    with pytest.raises(ValueError):
        Limit(name, limit, period)


class _CountingKV:
    """The bucket, counting the round trips the limiter makes."""

    def __init__(self, kv: object) -> None:
        self._kv, self.calls = kv, 0

    def __getattr__(self, name: str) -> object:
        method = getattr(self._kv, name)

        async def counted(*args: object, **kwargs: object) -> object:
            self.calls += 1
            return await method(*args, **kwargs)

        return counted


async def test_concurrent_requests_of_a_key_share_round_trips_and_are_each_counted(
    nc: NATS, nc2: NATS, clock: FakeClock
) -> None:
    limit = Limit("busy", 300, 60.0)
    first = _CountingKV(await nc.jetstream().create_key_value(KeyValueConfig(bucket="BUSY")))
    second = RateLimiter(await nc2.jetstream().create_key_value(KeyValueConfig(bucket="BUSY")), clock=clock)
    limiter = RateLimiter(first, clock=clock)  # type: ignore[arg-type]
    decisions = await asyncio.gather(
        *(limiter.hit(limit, "acct") for _ in range(200)), *(second.hit(limit, "acct") for _ in range(150))
    )
    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == 300  # exactly the budget, across both "gateways"
    assert sorted(d.remaining for d in allowed) == list(range(300))  # every request counted once
    assert all(d.enforced for d in decisions)
    assert first.calls < 60, first.calls  # 200 requests, far fewer round trips
