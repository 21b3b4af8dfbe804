"""Subscriptions: create (the secret shown once), list, update, delete; test events, redelivery, the log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.clock import utcnow
from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, R
from services.common.identity import Principal
from services.common.netguard import GuardedResolver, check_url
from services.webhooks import payloads, repository, signing
from services.webhooks.domain.deps import Deps
from services.webhooks.models import Attempt, Delivery, Subscription

MAX_ATTEMPTS_LISTED = 50


@dataclass(frozen=True)
class Created:
    webhook: Subscription
    secret: str


def _not_found() -> NotFound:
    return NotFound("No such webhook.", reason=R.WEBHOOK_NOT_FOUND)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _not_found() from None


async def owned(session: AsyncSession, principal: Principal, webhook_id: str) -> Subscription:
    """The caller's subscription; another account's is not found, like a missing one."""
    found = await repository.get_account_subscription(
        session=session, webhook_id=_uuid(webhook_id), account_id=principal.account_id
    )
    if found is None:
        raise _not_found()
    return found


async def check_target(deps: Deps, url: str) -> str:
    """The URL if webhooks may post to it: http(s), and every address of its host allowed."""
    parsed = check_url(url, deps.addresses)
    host = parsed.host or ""
    if not deps.addresses.allows_host(host):
        resolver = GuardedResolver(deps.addresses)
        try:
            await resolver.resolve(host, parsed.port or 0)
        finally:
            await resolver.close()
    return str(parsed)


def check_events(dialect: str, events: Sequence[str]) -> list[str]:
    allowed = payloads.SUBSCRIBABLE[dialect]
    if not events:
        raise InvalidArgument(
            "Subscribe to at least one event.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation("events", "must not be empty")],
        )
    unknown = [e for e in events if e not in allowed]
    if unknown:
        raise InvalidArgument(
            f"Unknown event {unknown[0]!r}; one of: {', '.join(sorted(allowed))}.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation("events", f"unknown event {unknown[0]!r}")],
        )
    return list(dict.fromkeys(events))  # in the caller's order, once each


def _context(webhook_id: uuid.UUID) -> str:
    return f"webhook-secret:{webhook_id}"


def secret_of(deps: Deps, webhook: Subscription) -> str | None:
    """The signing secret; None for a one-off callback, which is unsigned (no secret exists)."""
    if not webhook.secret_sealed:
        return None
    return deps.box.open(webhook.secret_sealed, context=_context(webhook.id)).decode()


async def create_webhook(
    deps: Deps, *, principal: Principal, url: str, events: Sequence[str], secret: str, dialect: str
) -> Created:
    target = await check_target(deps, url)
    wanted = check_events(dialect, events)
    if secret and not 8 <= len(secret) <= 256:
        raise InvalidArgument(
            "A webhook secret has 8 to 256 characters.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation("secret", "must have 8 to 256 characters")],
        )
    secret = secret or signing.new_secret()
    webhook_id = uuid.uuid4()
    async with deps.sessions.begin() as session:
        count = await repository.count_subscriptions(session=session, account_id=principal.account_id)
        if count >= deps.policy.max_subscriptions:
            raise FailedPrecondition(
                f"An account may have at most {deps.policy.max_subscriptions} webhooks.",
                reason=R.WEBHOOK_LIMIT_EXCEEDED,
            )
        webhook = Subscription(
            id=webhook_id,
            account_id=principal.account_id,
            url=target,
            events=wanted,
            dialect=dialect,
            secret_sealed=deps.box.seal(secret, context=_context(webhook_id)),
            created_at=utcnow(),
        )
        session.add(webhook)
    return Created(webhook, secret)


async def list_webhooks(deps: Deps, *, principal: Principal) -> Sequence[Subscription]:
    async with deps.sessions() as session:
        return await repository.list_subscriptions(session=session, account_id=principal.account_id)


async def update_webhook(
    deps: Deps,
    *,
    principal: Principal,
    webhook_id: str,
    url: str | None,
    events: Sequence[str] | None,
    is_active: bool | None,
) -> Subscription:
    if url is None and events is None and is_active is None:
        raise InvalidArgument("Nothing to update: give url, events or isActive.", reason=R.NO_UPDATES_PROVIDED)
    target = await check_target(deps, url) if url is not None else None
    async with deps.sessions.begin() as session:
        webhook = await owned(session, principal, webhook_id)
        if target is not None:
            webhook.url = target
        if events is not None:
            webhook.events = check_events(webhook.dialect, events)
        if is_active is not None:
            webhook.is_active = is_active
            if is_active:
                webhook.failure_count = 0  # re-enabled: its waiting deliveries resume
        session.add(webhook)
    deps.wake()
    return webhook


async def delete_webhook(deps: Deps, *, principal: Principal, webhook_id: str) -> None:
    async with deps.sessions.begin() as session:
        webhook = await owned(session, principal, webhook_id)
        await repository.delete_subscription(session=session, webhook=webhook)


async def send_test_event(deps: Deps, *, principal: Principal, webhook_id: str) -> tuple[Subscription, Delivery]:
    """Stores a `webhook.test` delivery (one attempt, sent at once by the caller's dispatcher)."""
    now = utcnow()
    async with deps.sessions.begin() as session:
        webhook = await owned(session, principal, webhook_id)
        delivery = Delivery(
            subscription_id=webhook.id,
            event_id=f"test:{uuid.uuid4()}",
            event=payloads.TEST_EVENT,
            body=payloads.ping_body(str(webhook.id), now),
            max_attempts=1,
            next_attempt_at=None,  # not for the background loop: the caller sends it now
            created_at=now,
        )
        session.add(delivery)
    return webhook, delivery


async def redeliver(deps: Deps, *, principal: Principal, webhook_id: str, delivery_id: str) -> Delivery:
    """One more attempt of a delivery, now, whatever became of the earlier ones."""
    async with deps.sessions.begin() as session:
        webhook = await owned(session, principal, webhook_id)
        delivery = await repository.get_delivery(session=session, delivery_id=_uuid(delivery_id))
        if delivery is None or delivery.subscription_id != webhook.id:
            raise NotFound("No such delivery.", reason=R.WEBHOOK_NOT_FOUND)
        delivery.state = "pending"
        delivery.max_attempts = delivery.attempts + 1
        delivery.next_attempt_at = utcnow()
        session.add(delivery)
    deps.wake()
    return delivery


async def list_attempts(
    deps: Deps, *, principal: Principal, webhook_id: str, limit: int = MAX_ATTEMPTS_LISTED
) -> list[tuple[Attempt, Delivery]]:
    """The subscription's most recent attempts, newest first, each with its delivery."""
    limit = max(1, min(limit or MAX_ATTEMPTS_LISTED, MAX_ATTEMPTS_LISTED))
    async with deps.sessions() as session:
        webhook = await owned(session, principal, webhook_id)
        return await repository.list_attempts(session=session, subscription_id=webhook.id, limit=limit)
