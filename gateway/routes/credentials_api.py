"""The Encode API's saved Google Drive service-account credentials: /ondemand/credentials/google-drive*.

The key JSON goes to ingest in the one RPC that seals it; no answer ever carries it back.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import Field

from gateway.auth import requires
from gateway.clients import CLIENTS, call_options
from gateway.schemas import Body, read_json
from gateway.views import iso
from protos.ingest.v1 import credentials_pb2

routes = web.RouteTableDef()


class DriveCredentialCreate(Body):
    name: str = Field(min_length=1, max_length=255)
    service_account: str | dict[str, Any]  # Google's key file: as JSON text, or the object itself


def _credential(found: credentials_pb2.DriveCredential) -> dict[str, Any]:
    return {
        "id": found.id,
        "name": found.name,
        "clientEmail": found.client_email,
        "projectId": found.project_id or None,
        "createdAt": iso(found.created_at, found.HasField("created_at")),
    }


@routes.get("/ondemand/credentials/google-drive")
@requires("credentials:manage")
async def list_credentials(request: web.Request) -> web.Response:
    found = await request.app[CLIENTS].credentials.ListDriveCredentials(
        credentials_pb2.ListDriveCredentialsRequest(), **call_options(request)
    )
    return web.json_response({"credentials": [_credential(c) for c in found.credentials]})


@routes.post("/ondemand/credentials/google-drive")
@requires("credentials:manage")
async def create_credential(request: web.Request) -> web.Response:
    body = await read_json(request, DriveCredentialCreate)
    key = body.service_account if isinstance(body.service_account, str) else json.dumps(body.service_account)
    created = await request.app[CLIENTS].credentials.CreateDriveCredential(
        credentials_pb2.CreateDriveCredentialRequest(name=body.name, service_account_json=key),
        **call_options(request),
    )
    return web.json_response(_credential(created), status=201)


@routes.delete("/ondemand/credentials/google-drive/{credential_id}")
@requires("credentials:manage")
async def delete_credential(request: web.Request) -> web.Response:
    credential_id = request.match_info["credential_id"]
    await request.app[CLIENTS].credentials.DeleteDriveCredential(
        credentials_pb2.DeleteDriveCredentialRequest(id=credential_id), **call_options(request)
    )
    return web.json_response({"ok": True, "id": credential_id})
