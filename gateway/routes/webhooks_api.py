"""Webhooks in both dialects (/webhooks*, /api/v1/webhooks*) and the event feed (/events)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway.auth import requires
from gateway.clients import CLIENTS, call_options
from gateway.routes.media_api import ok
from gateway.schemas import MediaWebhookCreateRequest, WebhookCreateRequest, WebhookUpdateRequest, read_json
from gateway.views import iso
from protos.webhooks.v1 import webhooks_pb2
from services.common.errors import FieldViolation, InvalidArgument, R

routes = web.RouteTableDef()


def encode_webhook(w: webhooks_pb2.Webhook, secret: str = "") -> dict[str, Any]:
    """WebhookResponse (the secret only in the answer that created it)."""
    body: dict[str, Any] = {
        "id": w.id,
        "url": w.url,
        "events": list(w.events),
        "isActive": w.is_active,
        "failureCount": w.failure_count,
        "lastTriggeredAt": iso(w.last_triggered_at, w.HasField("last_triggered_at")),
        "lastFailedAt": iso(w.last_failed_at, w.HasField("last_failed_at")),
        "createdAt": iso(w.created_at, w.HasField("created_at")),
    }
    if secret:
        body["secret"] = secret
    return body


def media_webhook(w: webhooks_pb2.Webhook) -> dict[str, Any]:
    return {
        "id": w.id,
        "url": w.url,
        "events": list(w.events),
        "is_active": w.is_active,
        "failure_count": w.failure_count,
        "last_triggered_at": iso(w.last_triggered_at, w.HasField("last_triggered_at")),
        "created_at": iso(w.created_at, w.HasField("created_at")),
    }


def encode_attempt(a: webhooks_pb2.Attempt) -> dict[str, Any]:
    """WebhookDeliveryResponse."""
    return {
        "id": a.id or a.delivery_id,
        "deliveryId": a.delivery_id,
        "webhookId": a.webhook_id,
        "event": a.event,
        "jobId": a.job_id or None,
        "status": a.status,
        "statusCode": a.status_code or None,
        "durationMs": a.duration_ms,
        "responseBody": a.response_body or None,
        "error": a.error or None,
        "attempt": a.attempt,
        "nextRetryAt": iso(a.next_retry_at, a.HasField("next_retry_at")),
        "retriedAt": iso(a.retried_at, a.HasField("retried_at")),
        "createdAt": iso(a.created_at, a.HasField("created_at")),
    }


def _int_query(request: web.Request, name: str, default: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > high:
        raise InvalidArgument(
            f"{name} must be an integer from 0 to {high}.",
            reason=R.REQUEST_INVALID,
            violations=[FieldViolation(name, f"must be an integer from 0 to {high}")],
        )
    return int(raw)


@routes.get("/webhooks")
@requires("webhooks:manage")
async def list_webhooks(request: web.Request) -> web.Response:
    answer = await request.app[CLIENTS].webhooks.ListWebhooks(
        webhooks_pb2.ListWebhooksRequest(), **call_options(request)
    )
    return web.json_response({"webhooks": [encode_webhook(w) for w in answer.webhooks]})


@routes.post("/webhooks")
@requires("webhooks:manage")
async def create_webhook(request: web.Request) -> web.Response:
    body = await read_json(request, WebhookCreateRequest)
    answer = await request.app[CLIENTS].webhooks.CreateWebhook(
        webhooks_pb2.CreateWebhookRequest(url=body.url, events=body.events, dialect=webhooks_pb2.DIALECT_ENCODE),
        **call_options(request),
    )
    return web.json_response(encode_webhook(answer.webhook, answer.secret))


@routes.patch("/webhooks/{webhook_id}")
@requires("webhooks:manage")
async def update_webhook(request: web.Request) -> web.Response:
    body = await read_json(request, WebhookUpdateRequest)
    update = webhooks_pb2.UpdateWebhookRequest(id=request.match_info["webhook_id"])
    if body.url is not None:
        update.url = body.url
    if body.events is not None:
        update.set_events = True
        update.events.extend(body.events)
    if body.is_active is not None:
        update.is_active = body.is_active
    answer = await request.app[CLIENTS].webhooks.UpdateWebhook(update, **call_options(request))
    return web.json_response(encode_webhook(answer))


@routes.delete("/webhooks/{webhook_id}")
@requires("webhooks:manage")
async def delete_webhook(request: web.Request) -> web.Response:
    await request.app[CLIENTS].webhooks.DeleteWebhook(
        webhooks_pb2.DeleteWebhookRequest(id=request.match_info["webhook_id"]), **call_options(request)
    )
    return web.Response(status=204)


async def _test(request: web.Request) -> web.Response:
    attempt = await request.app[CLIENTS].webhooks.SendTestEvent(
        webhooks_pb2.SendTestEventRequest(id=request.match_info["webhook_id"]), **call_options(request)
    )
    return web.json_response({"ok": True, "message": "Test event sent.", "delivery": encode_attempt(attempt)})


@routes.post("/webhooks/{webhook_id}/test")
@requires("webhooks:manage")
async def test_webhook(request: web.Request) -> web.Response:
    return await _test(request)


@routes.post("/webhooks/{webhook_id}")
@requires("webhooks:manage")
async def test_webhook_spec_path(request: web.Request) -> web.Response:
    return await _test(request)


@routes.get("/webhooks/{webhook_id}/deliveries")
@requires("webhooks:manage")
async def deliveries(request: web.Request) -> web.Response:
    answer = await request.app[CLIENTS].webhooks.ListDeliveries(
        webhooks_pb2.ListDeliveriesRequest(id=request.match_info["webhook_id"], limit=50), **call_options(request)
    )
    return web.json_response({"deliveries": [encode_attempt(a) for a in answer.deliveries]})


@routes.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
@requires("webhooks:manage")
async def redeliver(request: web.Request) -> web.Response:
    answer = await request.app[CLIENTS].webhooks.Redeliver(
        webhooks_pb2.RedeliverRequest(
            id=request.match_info["webhook_id"], delivery_id=request.match_info["delivery_id"]
        ),
        **call_options(request),
    )
    return web.json_response({"ok": True, "deliveryId": answer.delivery_id})


@routes.get("/events")
@requires("jobs:read")
async def events(request: web.Request) -> web.Response:
    after = _int_query(request, "after", 0, 2**62)
    limit = _int_query(request, "limit", 100, 1000) or 100
    answer = await request.app[CLIENTS].webhooks.ListEvents(
        webhooks_pb2.ListEventsRequest(after=after, limit=limit), **call_options(request)
    )
    items = [json.loads(e.payload_json) for e in answer.events]
    return web.json_response({"events": items, "nextCursor": answer.next_after, "hasMore": len(items) == limit})


@routes.post("/api/v1/webhooks")
@requires("webhooks:manage")
async def media_create(request: web.Request) -> web.Response:
    body = await read_json(request, MediaWebhookCreateRequest)
    answer = await request.app[CLIENTS].webhooks.CreateWebhook(
        webhooks_pb2.CreateWebhookRequest(
            url=body.url, events=body.events, secret=body.secret or "", dialect=webhooks_pb2.DIALECT_MEDIA
        ),
        **call_options(request),
    )
    data = media_webhook(answer.webhook)
    if not body.secret:
        data["secret"] = answer.secret  # made by vidkiln: shown this once
    return ok(data, "Webhook created")


@routes.get("/api/v1/webhooks")
@requires("webhooks:manage")
async def media_list(request: web.Request) -> web.Response:
    answer = await request.app[CLIENTS].webhooks.ListWebhooks(
        webhooks_pb2.ListWebhooksRequest(), **call_options(request)
    )
    return ok([media_webhook(w) for w in answer.webhooks])


@routes.delete("/api/v1/webhooks/{webhook_id}")
@requires("webhooks:manage")
async def media_delete(request: web.Request) -> web.Response:
    await request.app[CLIENTS].webhooks.DeleteWebhook(
        webhooks_pb2.DeleteWebhookRequest(id=request.match_info["webhook_id"]), **call_options(request)
    )
    return ok(None, "Webhook deleted")
