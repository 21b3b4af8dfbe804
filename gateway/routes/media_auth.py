"""The Media API's /api/v1/auth/* routes, answered in the shapes its reference shows."""

from __future__ import annotations

import time
from typing import Any

import grpc
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.auth import CALLER, optional_auth, public
from gateway.clients import CLIENTS
from gateway.permissions import permissions_of
from gateway.views import iso
from protos.auth.v1 import auth_pb2
from services.common.clock import utcnow
from services.common.errors import PermissionDenied, R

routes = web.RouteTableDef()


def _now() -> str:
    return utcnow().isoformat().replace("+00:00", "Z")


def _context(request: web.Request) -> dict[str, Any]:
    return {"path": request.path.removeprefix("/api/v1"), "method": request.method, "client_ip": request.remote}


async def _account(request: web.Request) -> auth_pb2.Account:
    clients, caller = request.app[CLIENTS], request[CALLER]
    return await clients.auth.GetAccount(
        auth_pb2.GetAccountRequest(), timeout=clients.timeout, metadata=caller.metadata
    )


@routes.get("/api/v1/auth/health")
@public
async def health(request: web.Request) -> web.Response:
    clients = request.app[CLIENTS]
    started = time.perf_counter()
    try:
        answer = await health_pb2_grpc.HealthStub(clients.auth_channel).Check(
            health_pb2.HealthCheckRequest(), timeout=2
        )
        healthy = answer.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.aio.AioRpcError:
        healthy = False
    elapsed = f"{(time.perf_counter() - started) * 1000:.0f}ms"
    state = "healthy" if healthy else "unhealthy"
    body = {
        "status": state,
        "auth": {"status": state, "response_time": elapsed, "last_check": _now()},
        "message": "Authentication service health check completed",
    }
    return web.json_response(body, status=200 if healthy else 503)


@routes.get("/api/v1/auth/status")
@optional_auth
async def status(request: web.Request) -> web.Response:
    if CALLER not in request:
        given = bool(request.headers.get("Authorization", "").strip() or request.headers.get("X-API-Key"))
        message = "The credentials are not valid" if given else "No authentication provided"
        return web.json_response({"authenticated": False, "message": message, "request_context": _context(request)})
    account = await _account(request)
    return web.json_response(
        {
            "authenticated": True,
            "user_id": account.id,
            "email": account.email,
            "email_verified": account.email_verified,
            "request_context": _context(request),
        }
    )


@routes.get("/api/v1/auth/me")
async def me(request: web.Request) -> web.Response:
    account = await _account(request)
    return web.json_response(
        {
            "id": account.id,
            "username": account.email.split("@")[0],
            "full_name": None,
            "email": account.email,
            "image_url": None,
            "email_verified": account.email_verified,
            "created_at": iso(account.created_at, account.HasField("created_at")),
            "last_sign_in_at": iso(account.last_sign_in_at, account.HasField("last_sign_in_at")),
        }
    )


@routes.get("/api/v1/auth/permissions")
async def permissions(request: web.Request) -> web.Response:
    principal = request[CALLER].principal
    return web.json_response(
        {
            "user_id": str(principal.account_id),
            "role": principal.role,
            "permissions": permissions_of(principal),
            "access_level": "admin" if principal.role == "ADMIN" else "standard",
        }
    )


@routes.get("/api/v1/auth/test-protected")
async def test_protected(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "message": "Successfully accessed protected endpoint",
            "user_id": str(request[CALLER].principal.account_id),
            "timestamp": _now(),
        }
    )


@routes.get("/api/v1/auth/test-verified")
async def test_verified(request: web.Request) -> web.Response:
    account = await _account(request)
    if not account.email_verified:
        raise PermissionDenied("This endpoint needs a verified email address.", reason=R.EMAIL_NOT_VERIFIED)
    return web.json_response(
        {
            "message": "Successfully accessed verified user endpoint",
            "user_id": account.id,
            "email": account.email,
            "email_verified": True,
            "timestamp": _now(),
        }
    )


@routes.post("/api/v1/auth/verify")
async def verify(request: web.Request) -> web.Response:
    account = await _account(request)
    return web.json_response(
        {
            "verified": True,
            "user_id": account.id,
            "email": account.email,
            "email_verified": account.email_verified,
            "message": "Token verified successfully",
        }
    )
