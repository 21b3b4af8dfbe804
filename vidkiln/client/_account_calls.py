"""The Encode API's account routes as `Call` builders: logins, credits, API keys, webhooks, events, Drive
credentials (the Convertrilo SDK's names in snake_case; vidkiln's additions: `refresh`, `logout`, `get_api_key`,
`redeliver_webhook`, `get_events`, `health`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vidkiln.client._encode_calls import many, one, path_id
from vidkiln.client._http import Call
from vidkiln.client.models import (
    ApiKey,
    Balance,
    CreditResult,
    Deleted,
    DriveCredential,
    EventPage,
    Health,
    Ok,
    Redelivered,
    TokenPair,
    Webhook,
    WebhookDelivery,
    WebhookTestResult,
)


def _none(_data: Any) -> None:
    return None


def login(email: str, password: str) -> Call[TokenPair]:
    """POST /auth/login: an access token (15 min) and a rotating refresh token."""
    return Call("POST", "/auth/login", one(TokenPair), json={"email": email, "password": password}, retry_safe=True)


def refresh(refresh_token: str) -> Call[TokenPair]:
    """POST /auth/refresh: spends the refresh token for a new pair (never retried: a token is spent once)."""
    return Call("POST", "/auth/refresh", one(TokenPair), json={"refreshToken": refresh_token}, retry_safe=False)


def logout(refresh_token: str) -> Call[Ok]:
    """POST /auth/logout: revokes the login, its access tokens included."""
    return Call("POST", "/auth/logout", one(Ok), json={"refreshToken": refresh_token}, retry_safe=True)


def health() -> Call[Health]:
    """GET /health (no credentials needed)."""
    return Call("GET", "/health", one(Health))


def get_balance() -> Call[Balance]:
    """GET /tokens/balance: available and reserved credits (NEU)."""
    return Call("GET", "/tokens/balance", one(Balance))


def _credits(operation: str, job_id: str, amount: int) -> Call[CreditResult]:
    return Call("POST", f"/tokens/{operation}", one(CreditResult), json={"jobId": job_id, "amount": amount})


def reserve_tokens(job_id: str, amount: int) -> Call[CreditResult]:
    """POST /tokens/reserve: holds credits for one of your jobs (the key needs tokens:write)."""
    return _credits("reserve", job_id, amount)


def release_tokens(job_id: str, amount: int) -> Call[CreditResult]:
    """POST /tokens/release: returns up to `amount` of your hold."""
    return _credits("release", job_id, amount)


def deduct_tokens(job_id: str, amount: int) -> Call[CreditResult]:
    """POST /tokens/deduct: spends up to `amount` of your hold, returning the rest."""
    return _credits("deduct", job_id, amount)


def get_api_keys() -> Call[list[ApiKey]]:
    """GET /api-keys (a login session only: `access_token`)."""
    return Call("GET", "/api-keys", many("keys", ApiKey))


def create_api_key(name: str, scopes: Sequence[str] | None = None, expires_in_days: int | None = None) -> Call[ApiKey]:
    """POST /api-keys: the raw `key` is in this answer only (no scopes: all but tokens:write)."""
    body: dict[str, Any] = {"name": name}
    if scopes is not None:
        body["scopes"] = list(scopes)
    if expires_in_days is not None:
        body["expiresInDays"] = expires_in_days
    return Call("POST", "/api-keys", one(ApiKey), json=body)


def get_api_key(key_id: str) -> Call[ApiKey]:
    """GET /api-keys/{id}."""
    return Call("GET", f"/api-keys/{path_id(key_id)}", one(ApiKey))


def revoke_api_key(key_id: str) -> Call[None]:
    """DELETE /api-keys/{id}: every gateway drops the key at once."""
    return Call("DELETE", f"/api-keys/{path_id(key_id)}", _none)


def get_webhooks() -> Call[list[Webhook]]:
    """GET /webhooks: every subscription, the Media API's included."""
    return Call("GET", "/webhooks", many("webhooks", Webhook))


def create_webhook(url: str, events: Sequence[str]) -> Call[Webhook]:
    """POST /webhooks: the `secret` (whsec_...) is in this answer only."""
    return Call("POST", "/webhooks", one(Webhook), json={"url": url, "events": list(events)})


def update_webhook(
    webhook_id: str, *, url: str | None = None, events: Sequence[str] | None = None, is_active: bool | None = None
) -> Call[Webhook]:
    """PATCH /webhooks/{id}: `is_active=True` re-enables a disabled subscription."""
    body: dict[str, Any] = {}
    if url is not None:
        body["url"] = url
    if events is not None:
        body["events"] = list(events)
    if is_active is not None:
        body["isActive"] = is_active
    return Call("PATCH", f"/webhooks/{path_id(webhook_id)}", one(Webhook), json=body, retry_safe=True)


def delete_webhook(webhook_id: str) -> Call[None]:
    """DELETE /webhooks/{id}."""
    return Call("DELETE", f"/webhooks/{path_id(webhook_id)}", _none)


def test_webhook(webhook_id: str) -> Call[WebhookTestResult]:
    """POST /webhooks/{id}/test: sends a signed `webhook.test` event now."""
    return Call("POST", f"/webhooks/{path_id(webhook_id)}/test", one(WebhookTestResult))


def get_webhook_deliveries(webhook_id: str) -> Call[list[WebhookDelivery]]:
    """GET /webhooks/{id}/deliveries: the last 50 attempts."""
    return Call("GET", f"/webhooks/{path_id(webhook_id)}/deliveries", many("deliveries", WebhookDelivery))


def redeliver_webhook(webhook_id: str, delivery_id: str) -> Call[Redelivered]:
    """POST /webhooks/{id}/deliveries/{deliveryId}/redeliver: sends that delivery again."""
    path = f"/webhooks/{path_id(webhook_id)}/deliveries/{path_id(delivery_id)}/redeliver"
    return Call("POST", path, one(Redelivered))


def get_events(after: int = 0, limit: int = 100) -> Call[EventPage]:
    """GET /events?after=&limit=: the account's job events in order (the same ids and data as webhooks)."""
    return Call("GET", "/events", one(EventPage), params={"after": after, "limit": limit})


def get_google_drive_credentials() -> Call[list[DriveCredential]]:
    """GET /ondemand/credentials/google-drive: saved service accounts, newest first."""
    return Call("GET", "/ondemand/credentials/google-drive", many("credentials", DriveCredential))


def create_google_drive_credential(name: str, service_account: str | Mapping[str, Any]) -> Call[DriveCredential]:
    """POST /ondemand/credentials/google-drive: saves a service-account key (as JSON text or an object)."""
    key = service_account if isinstance(service_account, str) else dict(service_account)
    body = {"name": name, "serviceAccount": key}
    return Call("POST", "/ondemand/credentials/google-drive", one(DriveCredential), json=body)


def delete_google_drive_credential(credential_id: str) -> Call[Deleted]:
    """DELETE /ondemand/credentials/google-drive/{id}."""
    return Call("DELETE", f"/ondemand/credentials/google-drive/{path_id(credential_id)}", one(Deleted))
