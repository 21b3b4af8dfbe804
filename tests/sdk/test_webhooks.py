"""The SDK's webhook verification on real deliveries from a live platform: every scheme accepted as sent,
refused once anything is changed (the body, the secret, the timestamp) or replayed late."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from tests.harness import Platform
from tests.webhooks.receiver import Received, Receiver
from vidkiln.client import (
    AsyncClient,
    WebhookVerificationError,
    parse_webhook,
    verify_encode_signature,
    verify_media_signature,
    verify_standard_webhook,
    verify_webhook,
)

ENCODE_EVENTS = ["job.created", "job.queued", "job.canceled"]
MEDIA_SECRET = "media-s3cret-chosen-by-the-caller"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def _arrived(receiver: Receiver, count: int) -> list[Received]:
    deadline = time.monotonic() + 30
    while len(receiver.accepted) < count:
        assert time.monotonic() < deadline, f"only {len(receiver.accepted)} deliveries arrived"
        await asyncio.sleep(0.05)
    return list(receiver.accepted)


def _tampered(got: Received) -> bytes:
    payload = json.loads(got.body)
    payload["data"]["status"] = "success"
    return json.dumps(payload).encode()


async def test_real_deliveries_verify_and_tampered_ones_do_not(
    bare: Platform, receiver: Receiver, source_server: str
) -> None:
    async with AsyncClient(bare.base_url, api_key=bare.admin_key) as client:
        encode_hook = await client.encode.create_webhook(receiver.url, ENCODE_EVENTS)
        media_hook = await client.media.webhooks.create(receiver.url, ["job.cancelled"], secret=MEDIA_SECRET)
        assert encode_hook.secret is not None and encode_hook.secret.startswith("whsec_")
        assert media_hook.secret is None  # the caller chose it: never echoed
        receiver.secrets |= {encode_hook.id: encode_hook.secret, media_hook.id: MEDIA_SECRET}
        sent = await client.encode.test_webhook(encode_hook.id)
        assert sent.delivery.event == "webhook.test"
        job = await client.encode.on_demand_encode(source_url=f"{source_server}/media/silent.mp4")
        await client.encode.on_demand_cancel(job.job_id)
        # webhook.test, job.created, job.queued, job.canceled (Encode API) and job.cancelled (Media API)
        deliveries = await _arrived(receiver, 5)
        assert {d.event for d in deliveries} >= {"webhook.test", "job.canceled", "job.cancelled"}
        assert receiver.bad_signatures == 0  # the receiver's own code accepted every one as well
        logged = await client.encode.get_webhook_deliveries(encode_hook.id)
        assert {d.event for d in logged} >= {"webhook.test"}

    for got in deliveries:
        secret = receiver.secrets[got.headers["X-Webhook-Id"]]
        assert verify_webhook(secret, got.body, got.headers)
        event = parse_webhook(secret, got.body, got.headers)
        assert (event.event, event.id, event.subscription_id) == (
            got.event,
            got.headers["webhook-id"],
            got.headers["X-Webhook-Id"],
        )
        assert verify_standard_webhook(secret, got.body, got.headers)
        if "X-T2M-Signature" in got.headers:
            assert verify_media_signature(secret, got.body, got.headers["X-T2M-Signature"])
            assert event.data["job_id"] == job.job_id
        else:
            assert verify_encode_signature(secret, got.body, got.headers["X-Webhook-Signature"])

        changed = _tampered(got)
        assert not verify_webhook(secret, changed, got.headers)
        assert not verify_standard_webhook(secret, changed, got.headers)
        assert not verify_webhook(secret + "x", got.body, got.headers)
        with pytest.raises(WebhookVerificationError):
            parse_webhook(secret, changed, got.headers)
        later = dict(got.headers) | {"webhook-timestamp": str(int(got.headers["webhook-timestamp"]) + 1)}
        assert not verify_standard_webhook(secret, got.body, later)  # the timestamp is signed too
        assert not verify_standard_webhook(secret, got.body, got.headers, now=time.time() + 3600)  # a replay
        unsigned = {k: v for k, v in got.headers.items() if "signature" not in k.lower()}
        assert not verify_webhook(secret, got.body, unsigned)
