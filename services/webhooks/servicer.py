"""WebhookService over gRPC: proto <-> domain, nothing else."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import grpc

from protos.jobs.v1 import jobs_pb2
from protos.webhooks.v1 import webhooks_pb2, webhooks_pb2_grpc
from services.common.identity import current_principal
from services.common.timestamps import timestamp
from services.webhooks import domain, payloads
from services.webhooks.dispatcher import Dispatcher, Outcome
from services.webhooks.models import Attempt, Delivery, JobEvent, Subscription

Context = grpc.aio.ServicerContext[Any, Any]
_DIALECTS = {webhooks_pb2.DIALECT_MEDIA: "media"}
_DIALECT_TO_PROTO = {"media": webhooks_pb2.DIALECT_MEDIA, "encode": webhooks_pb2.DIALECT_ENCODE}


def webhook_to_proto(w: Subscription) -> webhooks_pb2.Webhook:
    return webhooks_pb2.Webhook(
        id=str(w.id),
        url=w.url,
        events=w.events,
        is_active=w.is_active,
        failure_count=w.failure_count,
        last_triggered_at=timestamp(w.last_triggered_at),
        last_failed_at=timestamp(w.last_failed_at),
        created_at=timestamp(w.created_at),
        dialect=_DIALECT_TO_PROTO[w.dialect],
    )


def attempt_to_proto(a: Attempt, d: Delivery) -> webhooks_pb2.Attempt:
    return webhooks_pb2.Attempt(
        id=str(a.id),
        webhook_id=str(a.subscription_id),
        delivery_id=str(d.id),
        event=d.event,
        job_id=str(d.job_id) if d.job_id else "",
        status=a.status,
        status_code=a.status_code or 0,
        duration_ms=a.duration_ms or 0,
        response_body=a.response_body or "",
        error=a.error or "",
        attempt=a.attempt,
        next_retry_at=timestamp(a.next_retry_at),
        retried_at=timestamp(a.retried_at),
        created_at=timestamp(a.created_at),
    )


def _outcome_to_proto(o: Outcome, d: Delivery, retry: datetime | None) -> webhooks_pb2.Attempt:
    return webhooks_pb2.Attempt(
        webhook_id=str(o.subscription_id),
        delivery_id=str(d.id),
        event=d.event,
        status="success" if o.ok else "failed",
        status_code=o.status_code or 0,
        duration_ms=o.duration_ms,
        response_body=o.response_body or "",
        error=o.error or "",
        attempt=o.attempt,
        next_retry_at=timestamp(retry),
        created_at=timestamp(o.at),
    )


def event_to_proto(e: JobEvent) -> webhooks_pb2.Event:
    job = jobs_pb2.Job.FromString(e.job)
    assert e.seq is not None
    item = payloads.feed_item(e.seq, e.event_id, job, e.progress_step, e.created_at)
    return webhooks_pb2.Event(
        seq=e.seq,
        id=e.event_id,
        type=e.type,
        job_id=str(e.job_id),
        at=timestamp(e.created_at),
        job=job,
        progress_step=e.progress_step,
        payload_json=json.dumps(item, separators=(",", ":")),
    )


class WebhookServicer(webhooks_pb2_grpc.WebhookServiceServicer):
    def __init__(self, deps: domain.Deps, dispatcher: Dispatcher) -> None:
        self._deps = deps
        self._dispatcher = dispatcher

    async def CreateWebhook(
        self, request: webhooks_pb2.CreateWebhookRequest, context: Context
    ) -> webhooks_pb2.CreateWebhookResponse:
        created = await domain.create_webhook(
            self._deps,
            principal=current_principal(),
            url=request.url,
            events=list(request.events),
            secret=request.secret,
            dialect=_DIALECTS.get(request.dialect, "encode"),
        )
        return webhooks_pb2.CreateWebhookResponse(webhook=webhook_to_proto(created.webhook), secret=created.secret)

    async def ListWebhooks(
        self, request: webhooks_pb2.ListWebhooksRequest, context: Context
    ) -> webhooks_pb2.ListWebhooksResponse:
        found = await domain.list_webhooks(self._deps, principal=current_principal())
        return webhooks_pb2.ListWebhooksResponse(webhooks=[webhook_to_proto(w) for w in found])

    async def UpdateWebhook(self, request: webhooks_pb2.UpdateWebhookRequest, context: Context) -> webhooks_pb2.Webhook:
        updated = await domain.update_webhook(
            self._deps,
            principal=current_principal(),
            webhook_id=request.id,
            url=request.url if request.HasField("url") else None,
            events=list(request.events) if request.set_events else None,
            is_active=request.is_active if request.HasField("is_active") else None,
        )
        return webhook_to_proto(updated)

    async def DeleteWebhook(
        self, request: webhooks_pb2.DeleteWebhookRequest, context: Context
    ) -> webhooks_pb2.DeleteWebhookResponse:
        await domain.delete_webhook(self._deps, principal=current_principal(), webhook_id=request.id)
        return webhooks_pb2.DeleteWebhookResponse()

    async def CheckTarget(
        self, request: webhooks_pb2.CheckTargetRequest, context: Context
    ) -> webhooks_pb2.CheckTargetResponse:
        return webhooks_pb2.CheckTargetResponse(url=await domain.check_target(self._deps, request.url))

    async def SendTestEvent(self, request: webhooks_pb2.SendTestEventRequest, context: Context) -> webhooks_pb2.Attempt:
        outcome, delivery = await self._dispatcher.send_test(principal=current_principal(), webhook_id=request.id)
        return _outcome_to_proto(outcome, delivery, None)

    async def ListDeliveries(
        self, request: webhooks_pb2.ListDeliveriesRequest, context: Context
    ) -> webhooks_pb2.ListDeliveriesResponse:
        found = await domain.list_attempts(
            self._deps, principal=current_principal(), webhook_id=request.id, limit=request.limit
        )
        return webhooks_pb2.ListDeliveriesResponse(deliveries=[attempt_to_proto(a, d) for a, d in found])

    async def Redeliver(
        self, request: webhooks_pb2.RedeliverRequest, context: Context
    ) -> webhooks_pb2.RedeliverResponse:
        delivery = await domain.redeliver(
            self._deps, principal=current_principal(), webhook_id=request.id, delivery_id=request.delivery_id
        )
        return webhooks_pb2.RedeliverResponse(delivery_id=str(delivery.id))

    async def ListEvents(
        self, request: webhooks_pb2.ListEventsRequest, context: Context
    ) -> webhooks_pb2.ListEventsResponse:
        found = await domain.list_events(
            self._deps, principal=current_principal(), after=request.after, limit=request.limit
        )
        last = found[-1].seq if found else None
        return webhooks_pb2.ListEventsResponse(
            events=[event_to_proto(e) for e in found], next_after=last if last is not None else request.after
        )
