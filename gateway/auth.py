"""Who is calling: credentials from headers, resolved once per few seconds, checked per route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from aiohttp import web

from services.common.credentials import Caller, CredentialResolver
from services.common.errors import DomainError, R, Unauthenticated
from services.common.grpc_server import AUTHENTICATED, PUBLIC, SESSION, check_access

CALLER = web.RequestKey("caller", Caller)
RESOLVER = web.AppKey("resolver", CredentialResolver)
OPTIONAL = "optional"  # credentials are used when given, and not required

Handler = Callable[..., Any]


def _policy(handler: Handler, policy: str) -> Handler:
    handler.__vidkiln_policy__ = policy  # type: ignore[attr-defined]
    return handler


def public(handler: Handler) -> Handler:
    """No credentials needed."""
    return _policy(handler, PUBLIC)


def optional_auth(handler: Handler) -> Handler:
    """Credentials are resolved when present (the handler sees request.get(CALLER))."""
    return _policy(handler, OPTIONAL)


def session_only(handler: Handler) -> Handler:
    """A login session's access token only: API keys cannot use the route (the contract's /api-keys)."""
    return _policy(handler, SESSION)


def requires(scope: str) -> Callable[[Handler], Handler]:
    """The caller's key (or session) must carry the scope."""
    return lambda handler: _policy(handler, scope)


def policy_of(handler: Handler) -> str:
    """The route's policy; a route nobody marked needs any valid credential."""
    return str(getattr(handler, "__vidkiln_policy__", AUTHENTICATED))


def credential_of(request: web.Request) -> str | None:
    """X-API-Key, else `Authorization: Bearer`; an empty Authorization header is ignored."""
    key = request.headers.get("X-API-Key", "").strip()
    if key:
        return key
    authorization = request.headers.get("Authorization", "").strip()
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


@web.middleware
async def auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every route needs a valid credential meeting its policy, unless it is public."""
    if request.match_info.http_exception is not None:
        return await handler(request)
    policy = policy_of(request.match_info.handler)
    if policy == PUBLIC:
        return await handler(request)
    credential = credential_of(request)
    if credential is None:
        if policy == OPTIONAL:
            return await handler(request)
        raise Unauthenticated("Send an API key in X-API-Key or Authorization: Bearer.", reason=R.CREDENTIALS_MISSING)
    try:
        caller = await request.app[RESOLVER].resolve(credential)
    except (DomainError, grpc.aio.AioRpcError):
        if policy == OPTIONAL:
            return await handler(request)  # the route says "not authenticated" in its own words
        raise
    check_access(AUTHENTICATED if policy == OPTIONAL else policy, caller.principal)
    request[CALLER] = caller
    return await handler(request)
