"""Webhooks through the whole platform: signed in three schemes, in order, retried, never lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.conftest import start_platform
from tests.e2e.helpers import follow, submit
from tests.harness import NatsServer, Platform, ServiceProcess
from tests.webhooks.receiver import Receiver, verify_encode, verify_standard

ENCODE_EVENTS = ["job.created", "job.queued", "job.running", "job.completed", "job.failed", "job.canceled"]
FAST_RETRIES = {"webhook_retry_schedule": (0.3,) * 20}


async def call(
    http: aiohttp.ClientSession, method: str, url: str, key: str, body: Any = None
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, url, json=body, headers={"X-API-Key": key}) as resp:
        return resp.status, (await resp.json() if resp.status != 204 else {})


async def eventually(check: Callable[[], bool], *, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def subscribe(http: aiohttp.ClientSession, platform: Platform, r: Receiver, events: list[str]) -> str:
    status, hook = await call(
        http, "POST", f"{platform.base_url}/webhooks", platform.admin_key, {"url": r.url, "events": events}
    )
    assert status == 200, hook
    r.secrets[hook["id"]] = hook["secret"]
    return str(hook["id"])


async def queue_and_cancel(http: aiohttp.ClientSession, platform: Platform, source_server: str) -> str:
    """A job that goes created -> queued -> canceled without an encoder."""
    created = await submit(http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/hd.mp4"})
    status, _ = await call(http, "DELETE", f"{platform.base_url}/ondemand/{created['jobId']}", platform.admin_key)
    assert status == 200
    return str(created["jobId"])


async def test_both_dialects_receive_signed_events_in_order_and_the_feed_has_them(
    platform: Platform, receiver: Receiver, source_server: str, spans: InMemorySpanExporter
) -> None:
    async with aiohttp.ClientSession() as http:
        encode_id = await subscribe(http, platform, receiver, ENCODE_EVENTS)
        assert receiver.secrets[encode_id].startswith("whsec_")
        status, media = await call(
            http,
            "POST",
            f"{platform.base_url}/api/v1/webhooks",
            platform.admin_key,
            {"url": receiver.url, "events": ["job.started", "job.progress", "job.completed"], "secret": "media-s3cret"},
        )
        assert status == 200 and media["success"], media
        media_id = media["data"]["id"]
        assert "secret" not in media["data"]  # the caller chose it: never echoed
        receiver.secrets[media_id] = "media-s3cret"

        status, listed = await call(http, "GET", f"{platform.base_url}/webhooks", platform.admin_key)
        assert status == 200 and {w["id"] for w in listed["webhooks"]} == {encode_id, media_id}
        assert all("secret" not in w for w in listed["webhooks"])

        created = await submit(
            http, platform.base_url, platform.admin_key, {"sourceUrl": f"{source_server}/media/hd.mp4"}
        )
        job_id = created["jobId"]
        final, _ = await follow(http, platform.base_url, platform.admin_key, job_id)
        assert final["status"] == "success"

        def done() -> bool:
            seen = [(r.headers["X-Webhook-Id"], r.event) for r in receiver.accepted]
            return (encode_id, "job.completed") in seen and (media_id, "job.completed") in seen

        await eventually(done, what="job.completed in both dialects")
        assert receiver.bad_signatures == 0
        by_hook = {h: [r for r in receiver.accepted if r.headers["X-Webhook-Id"] == h] for h in (encode_id, media_id)}
        assert [r.event for r in by_hook[encode_id]] == ["job.created", "job.queued", "job.running", "job.completed"]
        completed = by_hook[encode_id][-1].json
        assert completed["data"]["jobId"] == job_id and completed["data"]["status"] == "success"
        assert completed["data"]["encoder"] == "libx264" and completed["data"]["finalNeu"] >= 1
        assert "X-T2M-Signature" not in by_hook[encode_id][-1].headers

        media_events = [r.event for r in by_hook[media_id]]
        assert media_events[0] == "job.started" and media_events[-1] == "job.completed"
        steps = [r.json["data"]["progress"] for r in by_hook[media_id] if r.event == "job.progress"]
        assert steps == sorted(steps) and all(s % 10 == 0 for s in steps)
        result = by_hook[media_id][-1].json["data"]["result"]
        assert result["download_url"].endswith(f"/api/v1/videos/{job_id}/download")
        assert by_hook[media_id][-1].headers["X-T2M-Signature"].startswith("sha256=")
        path = result["download_url"][result["download_url"].index("/api/v1/") :]  # the base is the operator's
        async with http.get(platform.base_url + path, headers={"X-API-Key": platform.admin_key}) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "video/mp4"
            assert len(await resp.read()) == int(resp.headers["Content-Length"]) > 0

        # A tampered body fails every scheme's check.
        original = by_hook[encode_id][-1]
        tampered = original.body.replace(b'"success"', b'"failed"')
        secret = receiver.secrets[encode_id]
        assert verify_encode(secret, original.body, original.headers["X-Webhook-Signature"])
        assert not verify_encode(secret, tampered, original.headers["X-Webhook-Signature"])
        assert not verify_standard(secret, original.headers, tampered)

        status, log = await call(
            http, "GET", f"{platform.base_url}/webhooks/{encode_id}/deliveries", platform.admin_key
        )
        assert status == 200 and len(log["deliveries"]) == 4
        assert {(d["status"], d["statusCode"], d["attempt"]) for d in log["deliveries"]} == {("success", 200, 1)}
        assert log["deliveries"][0]["event"] == "job.completed" and log["deliveries"][0]["jobId"] == job_id

        # The feed: every event of the account in order, resumable from a cursor.
        status, feed = await call(http, "GET", f"{platform.base_url}/events?after=0", platform.admin_key)
        assert status == 200
        mine = [e["event"] for e in feed["events"] if e["data"]["jobId"] == job_id]
        assert mine[:3] == ["job.created", "job.queued", "job.running"] and mine[-1] == "job.completed"
        status, rest = await call(
            http, "GET", f"{platform.base_url}/events?after={feed['nextCursor']}", platform.admin_key
        )
        assert status == 200 and rest["events"] == [] and rest["nextCursor"] == feed["nextCursor"]

        # Test events, on the SDK's path and the spec's.
        for path in (f"/webhooks/{encode_id}/test", f"/webhooks/{encode_id}"):
            status, sent = await call(http, "POST", platform.base_url + path, platform.admin_key)
            assert status == 200 and sent["delivery"]["status"] == "success", sent
        assert [r.event for r in receiver.accepted[-2:]] == ["webhook.test", "webhook.test"]

    # The secrets are in no span.
    for span in spans.get_finished_spans():
        text = repr(dict(span.attributes or {})) + span.name
        assert receiver.secrets[encode_id] not in text and "media-s3cret" not in text


async def test_bad_requests_and_other_accounts_are_refused(platform: Platform, receiver: Receiver) -> None:
    base, key = platform.base_url, platform.admin_key
    other = await platform.new_key(email="other@example.com")
    reader = await platform.new_key(email="reader@example.com", scopes=("jobs:read",))
    async with aiohttp.ClientSession() as http:
        hook_id = await subscribe(http, platform, receiver, ["job.completed"])
        cases: list[tuple[str, str, str, Any, int, str]] = [
            (
                "POST",
                "/webhooks",
                key,
                {"url": "http://10.1.2.3/hook", "events": ["job.completed"]},
                400,
                "private_ip_blocked",
            ),
            (
                "POST",
                "/webhooks",
                key,
                {"url": "http://169.254.169.254/", "events": ["job.failed"]},
                400,
                "private_ip_blocked",
            ),
            ("POST", "/webhooks", key, {"url": "ftp://example.com/x", "events": ["job.failed"]}, 400, "invalid_url"),
            ("POST", "/webhooks", key, {"url": receiver.url, "events": ["job.exploded"]}, 400, "invalid_body"),
            ("POST", "/webhooks", key, {"url": receiver.url, "events": []}, 400, "invalid_body"),
            (
                "POST",
                "/webhooks",
                key,
                {"url": receiver.url, "events": ["job.failed"], "extra": 1},
                400,
                "invalid_body",
            ),
            (
                "POST",
                "/webhooks",
                reader,
                {"url": receiver.url, "events": ["job.failed"]},
                403,
                "missing_required_scope",
            ),
            ("PATCH", f"/webhooks/{hook_id}", key, {}, 400, "no_updates_provided"),
            ("PATCH", f"/webhooks/{hook_id}", key, {"url": "http://127.0.0.2:9/x"}, 400, "private_ip_blocked"),
            ("PATCH", f"/webhooks/{hook_id}", other, {"isActive": False}, 404, "webhook_not_found"),
            ("DELETE", f"/webhooks/{hook_id}", other, None, 404, "webhook_not_found"),
            ("GET", f"/webhooks/{hook_id}/deliveries", other, None, 404, "webhook_not_found"),
            ("POST", f"/webhooks/{hook_id}/test", other, None, 404, "webhook_not_found"),
            ("GET", "/webhooks/not-a-uuid/deliveries", key, None, 404, "webhook_not_found"),
            ("GET", "/events?after=-1", key, None, 400, "invalid_request"),
        ]
        for method, path, who, body, expected, code in cases:
            status, answer = await call(http, method, base + path, who, body)
            assert (status, answer.get("code")) == (expected, code), (method, path, answer)

        status, answer = await call(
            http, "POST", f"{base}/api/v1/webhooks", key, {"url": receiver.url, "events": ["job.queued"]}
        )
        assert status == 400 and answer["success"] is False  # not a Media API event

        status, listed = await call(http, "GET", f"{base}/webhooks", other)
        assert status == 200 and listed["webhooks"] == []
        for _ in range(24):
            await subscribe(http, platform, receiver, ["job.failed"])
        status, answer = await call(
            http, "POST", f"{base}/webhooks", key, {"url": receiver.url, "events": ["job.failed"]}
        )
        assert (status, answer["code"]) == (409, "webhook_limit_exceeded")
        status, _ = await call(http, "DELETE", f"{base}/webhooks/{hook_id}", key)
        assert status == 204
        status, answer = await call(http, "GET", f"{base}/webhooks/{hook_id}/deliveries", key)
        assert (status, answer["code"]) == (404, "webhook_not_found")


@pytest.fixture
async def quick_platform(
    tmp_path: Path, nats: NatsServer, database_url: str | None, tracer_provider: TracerProvider
) -> AsyncIterator[Platform]:
    """No encoder (jobs are canceled while queued) and retries a fraction of a second apart."""
    started = await start_platform(
        tmp_path, nats, database_url, tracer_provider, encoder=False, webhooks_settings=FAST_RETRIES
    )
    async with started.stack:
        yield started


async def test_a_receiver_down_then_back_gets_everything_once_in_order(
    quick_platform: Platform, receiver: Receiver, source_server: str
) -> None:
    platform = quick_platform
    async with aiohttp.ClientSession() as http:
        hook_id = await subscribe(http, platform, receiver, ["job.created", "job.queued", "job.canceled"])
        await receiver.stop()  # down: connections are refused
        jobs = [await queue_and_cancel(http, platform, source_server) for _ in range(3)]

        async def failures() -> list[dict[str, Any]]:
            _, log = await call(http, "GET", f"{platform.base_url}/webhooks/{hook_id}/deliveries", platform.admin_key)
            return list(log["deliveries"])

        deadline = time.monotonic() + 30
        while not any(d["attempt"] >= 2 for d in await failures()):
            assert time.monotonic() < deadline, "no retry happened"
            await asyncio.sleep(0.1)
        failed = (await failures())[0]
        assert failed["status"] == "failed" and failed["statusCode"] is None
        assert failed["error"].startswith("Could not reach the receiver") and failed["nextRetryAt"]

        await receiver.start()  # back, on the same port
        await eventually(lambda: len(receiver.accepted) == 9, what="all nine events")
        await asyncio.sleep(1.0)  # nothing more arrives: once each
        assert len(receiver.accepted) == 9 and receiver.bad_signatures == 0
        for job_id in jobs:
            assert receiver.events_of(job_id) == ["job.created", "job.queued", "job.canceled"]
        log = await failures()
        assert {d["status"] for d in log} == {"success", "failed"}
        assert any(d["status"] == "success" and d["attempt"] > 1 for d in log)
        retried = [d for d in log if d["status"] == "failed" and d["retriedAt"]]
        assert retried, log
        status, hooks = await call(http, "GET", f"{platform.base_url}/webhooks", platform.admin_key)
        assert hooks["webhooks"][0]["failureCount"] == 0 and hooks["webhooks"][0]["isActive"]


async def test_ten_failures_disable_a_subscription_and_410_stops_retries(
    quick_platform: Platform, receiver: Receiver, source_server: str
) -> None:
    platform = quick_platform
    receiver.answer = lambda _r: 500
    async with aiohttp.ClientSession() as http:
        hook_id = await subscribe(http, platform, receiver, ["job.created", "job.queued", "job.canceled"])
        await queue_and_cancel(http, platform, source_server)

        async def hook() -> dict[str, Any]:
            _, listed = await call(http, "GET", f"{platform.base_url}/webhooks", platform.admin_key)
            return dict(listed["webhooks"][0])

        deadline = time.monotonic() + 30
        while (await hook())["isActive"]:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        state = await hook()
        assert state["failureCount"] == 10 and state["lastFailedAt"]
        await asyncio.sleep(1.0)
        assert len(receiver.received) == 10  # one event at a time (order), and nothing after the switch-off

        receiver.answer = lambda _r: 410
        status, _ = await call(
            http, "PATCH", f"{platform.base_url}/webhooks/{hook_id}", platform.admin_key, {"isActive": True}
        )
        assert status == 200
        await eventually(lambda: len(receiver.received) == 13, what="one attempt per waiting delivery")
        await asyncio.sleep(1.0)
        assert len(receiver.received) == 13  # a 410 is final: no retries
        assert [r.event for r in receiver.received[-3:]] == ["job.created", "job.queued", "job.canceled"]


async def test_a_slow_receiver_delays_nobody_else(
    quick_platform: Platform, receiver: Receiver, source_server: str
) -> None:
    platform = quick_platform
    slow = Receiver(gate=asyncio.Event())
    await slow.start()
    try:
        async with aiohttp.ClientSession() as http:
            await subscribe(http, platform, slow, ["job.created", "job.queued", "job.canceled"])
            await subscribe(http, platform, receiver, ["job.created", "job.queued", "job.canceled"])
            jobs = [await queue_and_cancel(http, platform, source_server) for _ in range(3)]
            await eventually(lambda: len(receiver.accepted) == 9, what="the fast receiver's events")
            assert slow.accepted == [] and len(slow.received) >= 1  # still holding its first requests
            assert slow.gate is not None
            slow.gate.set()
            await eventually(lambda: len(slow.accepted) == 9, what="the slow receiver's events")
            for job_id in jobs:
                assert slow.events_of(job_id) == ["job.created", "job.queued", "job.canceled"]
    finally:
        await slow.stop()


async def test_sigkill_of_the_webhooks_service_mid_retry_loses_nothing(
    tmp_path: Path,
    nats: NatsServer,
    database_url: str | None,
    tracer_provider: TracerProvider,
    receiver: Receiver,
    source_server: str,
) -> None:
    env = {"VIDKILN_WEBHOOK_RETRY_SCHEDULE": "[0.5" + ", 0.5" * 19 + "]", "VIDKILN_URL_ALLOW": "127.0.0.1"}
    platform = await start_platform(tmp_path, nats, database_url, tracer_provider, encoder=False, webhooks_env=env)
    webhooks = platform.services["webhooks"]
    assert isinstance(webhooks, ServiceProcess)
    failing = True
    receiver.answer = lambda _r: 503 if failing else 200
    async with platform.stack, aiohttp.ClientSession() as http:
        await subscribe(http, platform, receiver, ["job.created", "job.queued", "job.canceled"])
        jobs = [await queue_and_cancel(http, platform, source_server) for _ in range(2)]
        await eventually(lambda: len(receiver.received) >= 4, what="failed attempts")
        webhooks.kill()
        failing = False
        await webhooks.start()
        await eventually(lambda: len(receiver.accepted) == 6, what="every event after the restart")
        for job_id in jobs:
            assert receiver.events_of(job_id) == ["job.created", "job.queued", "job.canceled"]
