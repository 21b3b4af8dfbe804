"""The Encode API's accounts: /auth/login|refresh|logout and /api-keys (a login session only)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from gateway.auth import CALLER, public, session_only
from gateway.clients import CLIENTS
from gateway.schemas import ApiKeyCreateRequest, LoginRequest, RefreshRequest, read_json
from gateway.views import iso
from protos.auth.v1 import auth_pb2

routes = web.RouteTableDef()


def _pair(pair: auth_pb2.TokenPair) -> dict[str, Any]:
    now = time.time()
    return {
        "accessToken": pair.access_token,
        "refreshToken": pair.refresh_token,
        "tokenType": "Bearer",
        "expiresIn": max(0, int(pair.access_expires_at.seconds - now)),
        "refreshExpiresIn": max(0, int(pair.refresh_expires_at.seconds - now)),
    }


def _key(key: auth_pb2.ApiKey) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "expiresAt": iso(key.expires_at, key.HasField("expires_at")),
        "createdAt": iso(key.created_at, key.HasField("created_at")),
        "lastUsedAt": iso(key.last_used_at, key.HasField("last_used_at")),
    }
    if key.key:
        body["key"] = key.key  # only in the answer that created it
    return body


@routes.post("/auth/login")
@public
async def login(request: web.Request) -> web.Response:
    body = await read_json(request, LoginRequest)
    clients = request.app[CLIENTS]
    pair = await clients.auth.Login(
        auth_pb2.LoginRequest(email=body.email, password=body.password), timeout=clients.timeout
    )
    return web.json_response(_pair(pair))


@routes.post("/auth/refresh")
@public
async def refresh(request: web.Request) -> web.Response:
    body = await read_json(request, RefreshRequest)
    clients = request.app[CLIENTS]
    pair = await clients.auth.Refresh(
        auth_pb2.RefreshRequest(refresh_token=body.refresh_token), timeout=clients.timeout
    )
    return web.json_response(_pair(pair))


@routes.post("/auth/logout")
@public
async def logout(request: web.Request) -> web.Response:
    body = await read_json(request, RefreshRequest)
    clients = request.app[CLIENTS]
    await clients.auth.Logout(auth_pb2.LogoutRequest(refresh_token=body.refresh_token), timeout=clients.timeout)
    return web.json_response({"ok": True})


@routes.get("/api-keys")
@session_only
async def list_keys(request: web.Request) -> web.Response:
    clients, caller = request.app[CLIENTS], request[CALLER]
    answer = await clients.auth.ListApiKeys(
        auth_pb2.ListApiKeysRequest(), timeout=clients.timeout, metadata=caller.metadata
    )
    return web.json_response({"keys": [_key(k) for k in answer.keys]})


@routes.post("/api-keys")
@session_only
async def create_key(request: web.Request) -> web.Response:
    body = await read_json(request, ApiKeyCreateRequest)
    clients, caller = request.app[CLIENTS], request[CALLER]
    key = await clients.auth.CreateApiKey(
        auth_pb2.CreateApiKeyRequest(
            name=body.name,
            scopes=body.scopes or [],
            default_scopes=body.scopes is None,  # auth decides the default: every scope but tokens:write
            expires_in_days=body.expires_in_days or 0,
        ),
        timeout=clients.timeout,
        metadata=caller.metadata,
    )
    return web.json_response(_key(key))


@routes.get("/api-keys/{key_id}")
@session_only
async def get_key(request: web.Request) -> web.Response:
    clients, caller = request.app[CLIENTS], request[CALLER]
    key = await clients.auth.GetApiKey(
        auth_pb2.GetApiKeyRequest(key_id=request.match_info["key_id"]),
        timeout=clients.timeout,
        metadata=caller.metadata,
    )
    return web.json_response(_key(key))


@routes.delete("/api-keys/{key_id}")
@session_only
async def delete_key(request: web.Request) -> web.Response:
    clients, caller = request.app[CLIENTS], request[CALLER]
    await clients.auth.DeleteApiKey(
        auth_pb2.DeleteApiKeyRequest(key_id=request.match_info["key_id"]),
        timeout=clients.timeout,
        metadata=caller.metadata,
    )
    return web.Response(status=204)
