"""Rate limits at the edge: which limits a request counts against, 429s, and the headers.

The Encode API counts per API key (100 a minute across routes, 10 a minute for POST
/ondemand/encode) and, so that more keys do not mean more budget, per account over all its keys
and sessions (300 and 30 a minute); the Media API per user and per hour (1000 in all, 100
uploads, 10 video generations, 500 system calls). Logins count per client address. State lives
in NATS, so the limits hold however many gateways serve the traffic.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from gateway.auth import CALLER
from gateway.errors import is_media
from gateway.limiter import Decision, Limit, RateLimiter
from services.common.errors import R, ResourceExhausted

LIMITER = web.AppKey("rate_limiter", RateLimiter)
DECISION = web.RequestKey("rate_limit", Decision)


@dataclass(frozen=True)
class Limits:
    encode: Limit
    encode_create: Limit
    encode_account: Limit  # every key and session of one account together
    encode_create_account: Limit
    media: Limit
    media_upload: Limit
    media_generate: Limit
    media_system: Limit
    login: Limit


LIMITS = web.AppKey("rate_limits", Limits)


def applicable(request: web.Request, limits: Limits) -> list[tuple[Limit, str]] | None:
    """The budgets this request counts against: (limit, whose budget) pairs; None when it is not limited."""
    caller = request.get(CALLER)
    address = request.remote or "unknown"
    path, method = request.path, request.method
    if is_media(request):
        subject = str(caller.principal.account_id) if caller else f"ip:{address}"
        chosen = [limits.media]
        if method == "POST" and path in ("/api/v1/files/upload", "/api/v1/files/batch-upload"):
            chosen.append(limits.media_upload)
        if method == "POST" and path == "/api/v1/videos/generate":
            chosen.append(limits.media_generate)
        if path.startswith("/api/v1/system/"):
            chosen.append(limits.media_system)
        return [(limit, subject) for limit in chosen]
    if path in ("/auth/login", "/auth/refresh"):
        return [(limits.login, f"ip:{address}")]
    if caller is None:
        return None  # public routes: health, signed downloads
    principal = caller.principal
    account = f"account:{principal.account_id}"
    own = f"key:{principal.key_id}" if principal.key_id else account
    budgets = [(limits.encode, own), (limits.encode_account, account)]
    if method == "POST" and path == "/ondemand/encode":
        budgets += [(limits.encode_create, own), (limits.encode_create_account, account)]
    return budgets


@web.middleware
async def rate_limit_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Counts the request; over a limit it is refused with 429 before any work is done."""
    found = applicable(request, request.app[LIMITS]) if request.match_info.http_exception is None else None
    if found is None:
        return await handler(request)
    decision = await request.app[LIMITER].hit_each(found)
    request[DECISION] = decision
    if not decision.allowed:
        wait = math.ceil(decision.retry_after)
        raise ResourceExhausted(
            f"Rate limit exceeded: {decision.limit} requests per {_period(found, decision)}. Try again in {wait} s.",
            reason=R.RATE_LIMITED,
            metadata={"retryAfter": str(wait), "limit": str(decision.limit)},
        )
    return await handler(request)


def _period(budgets: list[tuple[Limit, str]], decision: Decision) -> str:
    """The period of the budget that decided (the one with the decision's limit)."""
    period = next((limit.period for limit, _ in budgets if limit.limit == decision.limit), budgets[0][0].period)
    return "hour" if period >= 3600 else "minute" if period >= 60 else f"{period:.0f} s"


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """X-RateLimit-* on every counted response (errors included), Retry-After on a 429."""
    decision = request.get(DECISION)
    if decision is None:
        return
    response.headers["X-RateLimit-Limit"] = str(decision.limit)
    response.headers["X-RateLimit-Remaining"] = str(decision.remaining)
    response.headers["X-RateLimit-Reset"] = str(math.ceil(decision.reset_at))  # epoch seconds
    if not decision.allowed:
        response.headers["Retry-After"] = str(math.ceil(decision.retry_after))
