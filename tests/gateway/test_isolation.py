"""Another account's resource is indistinguishable from a missing one, on every resource route."""

from __future__ import annotations

import importlib
import io
import pkgutil
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiohttp
import pytest
from aiohttp import web

import gateway.routes
from services.auth import domain
from services.auth.models import AuthTable
from services.common.db import open_database
from services.common.identity import TokenSigner
from tests.e2e.helpers import follow, submit
from tests.fakes.drive_accounts import ServiceAccounts
from tests.harness import SECRET, Platform

PASSWORD = "isolation-password"
ADMIN_EMAIL = "admin@localhost"
OTHER_EMAIL = "other@example.com"


Credential = Literal["key", "session"]  # an API key, or a login session's access token


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "{id}" is the resource's id
    resource: Literal["job", "key", "webhook", "file", "credential"]
    owner_status: int | None  # what the owner gets (None: the owner does not call it, it changes state)
    # The credentials the route takes (/api-keys: a session's only).
    credentials: tuple[Credential, ...] = ("key", "session")
    refused: int = 404  # what anyone else gets, for every id alike


SESSION_ONLY: tuple[Credential, ...] = ("session",)

# Every route that takes a resource id: a new one is one line here.
ROUTES = [
    Route("GET", "/ondemand/status/{id}", "job", 200),
    Route("DELETE", "/ondemand/{id}", "job", None),
    Route("GET", "/jobs/{id}/status", "job", 200),
    Route("GET", "/jobs/{id}/probe-duration", "job", 200),
    Route("POST", "/jobs/{id}/approve-unified", "job", None),
    Route("POST", "/jobs/{id}/confirm", "job", None),
    Route("POST", "/jobs/{id}/cancel", "job", None),
    Route("DELETE", "/jobs/{id}", "job", None),
    Route("POST", "/jobs/{id}/stream/init", "job", None),
    Route("PUT", "/jobs/{id}/stream/chunk/{id}", "job", None),
    Route("POST", "/jobs/{id}/stream/finalize", "job", None),
    Route("POST", "/jobs/{id}/stream/abort", "job", None),
    # Authorized by its signature alone: without one, every id is refused alike.
    Route("PUT", "/uploads/{id}", "job", None, refused=403),
    Route("GET", "/api/v1/jobs/{id}/logs", "job", 200),
    Route("DELETE", "/api/v1/jobs/{id}", "job", None),
    Route("GET", "/api/v1/jobs/{id}", "job", 200),
    Route("POST", "/api/v1/jobs/{id}/cancel", "job", None),
    Route("GET", "/api/v1/videos/{id}/thumbnail", "job", 200),
    Route("GET", "/api/v1/videos/{id}/download", "job", 200),
    Route("GET", "/webhooks/{id}/deliveries", "webhook", 200),
    # The body is read before the id is looked up: every id is refused alike, for want of a JSON one.
    Route("PATCH", "/webhooks/{id}", "webhook", None, refused=415),
    Route("DELETE", "/webhooks/{id}", "webhook", None),
    Route("POST", "/webhooks/{id}", "webhook", None),
    Route("POST", "/webhooks/{id}/test", "webhook", None),
    Route("POST", "/webhooks/{id}/deliveries/{id}/redeliver", "webhook", None),
    Route("DELETE", "/api/v1/webhooks/{id}", "webhook", None),
    Route("GET", "/api/v1/files/{id}", "file", 200),
    Route("GET", "/api/v1/files/{id}/metadata", "file", 200),
    Route("GET", "/api/v1/files/{id}/download", "file", 200),
    Route("GET", "/api/v1/files/{id}/stream", "file", 200),
    Route("GET", "/api/v1/files/{id}/thumbnail", "file", 200),
    Route("GET", "/api/v1/files/{id}/analytics", "file", 200),
    Route("POST", "/api/v1/files/{id}/signed-url", "file", 200),
    Route("DELETE", "/api/v1/files/{id}", "file", None),
    # Authorized by its signature alone: without one, every id is refused alike.
    Route("GET", "/api/v1/files/secure/{id}", "file", None, refused=403),
    Route("DELETE", "/ondemand/credentials/google-drive/{id}", "credential", None),
    Route("GET", "/api-keys/{id}", "key", 200, SESSION_ONLY),
    Route("DELETE", "/api-keys/{id}", "key", None, SESSION_ONLY),
]


def test_every_route_that_takes_an_id_is_in_the_table() -> None:
    """A new resource route in gateway.routes fails here until it gets its line in ROUTES."""
    served = set()
    for module in pkgutil.iter_modules(gateway.routes.__path__, f"{gateway.routes.__name__}."):
        for route in getattr(importlib.import_module(module.name), "routes", ()):
            if isinstance(route, web.RouteDef) and "{" in route.path:
                served.add((route.method, re.sub(r"\{[^}]+\}", "{id}", route.path)))
    assert served == {(r.method, r.path) for r in ROUTES}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str]
) -> tuple[int, str | None, bytes]:
    async with http.request(method, url, headers=headers) as resp:
        return resp.status, resp.headers.get("Content-Type"), await resp.read()


async def _json(
    http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], *, status: int = 200, **kwargs: Any
) -> Any:
    async with http.request(method, url, headers=headers, **kwargs) as resp:
        assert resp.status == status, (method, url, await resp.text())
        return await resp.json()


async def _login(http: aiohttp.ClientSession, base: str, email: str) -> dict[str, str]:
    body = await _json(http, "POST", f"{base}/auth/login", {}, json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {body['accessToken']}"}


async def _give_passwords(platform: Platform) -> None:
    """The admin (made without a password) gets one; the other account is made with one."""
    async with open_database(platform.auth_db_url, AuthTable.metadata) as sessions:
        deps = domain.Deps(sessions=sessions, signer=TokenSigner(SECRET.encode()))
        await domain.set_password(deps, email=ADMIN_EMAIL, password=PASSWORD)
        await domain.create_account(deps, email=OTHER_EMAIL, password=PASSWORD)


async def test_another_accounts_resources_look_missing(
    platform: Platform, source_server: str, http: aiohttp.ClientSession, clips: dict[str, Path]
) -> None:
    base = platform.base_url
    admin_key = {"X-API-Key": platform.admin_key}
    created = await submit(http, base, platform.admin_key, {"sourceUrl": f"{source_server}/media/silent.mp4"})
    job_id = created["jobId"]
    finished, _ = await follow(http, base, platform.admin_key, job_id)
    assert finished["status"] == "success", finished
    # A second job still at work when the other account tries to cancel it.
    active_id = (await submit(http, base, platform.admin_key, {"sourceUrl": f"{source_server}/long/long.mp4"}))["jobId"]

    await _give_passwords(platform)
    admin_session = await _login(http, base, ADMIN_EMAIL)
    admin_new_key = await _json(http, "POST", f"{base}/api-keys", admin_session, json={"name": "admin's"})
    hook = await _json(
        http, "POST", f"{base}/webhooks", admin_key, json={"url": f"{source_server}/hook", "events": ["job.failed"]}
    )
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(clips["silent"].read_bytes()), filename="clip.mp4", content_type="video/mp4")
    file = (await _json(http, "POST", f"{base}/api/v1/files/upload", admin_key, data=form))["data"]
    robot = {"name": "robot", "serviceAccount": ServiceAccounts().create()}
    saved_key = await _json(
        http, "POST", f"{base}/ondemand/credentials/google-drive", admin_key, json=robot, status=201
    )
    owned = {
        "job": [job_id, active_id],
        "key": [admin_new_key["id"]],
        "webhook": [hook["id"]],
        "file": [file["id"]],
        "credential": [saved_key["id"]],
    }
    unknown = {kind: [str(uuid.uuid4()), "not-a-uuid"] for kind in owned}

    other = {
        "key": {"X-API-Key": await platform.new_key(email=OTHER_EMAIL)},
        "session": await _login(http, base, OTHER_EMAIL),
    }
    owner = {"key": admin_key, "session": admin_session}

    # The ids are real: their owner reaches them.
    for route in ROUTES:
        if route.owner_status is not None:
            url = base + route.path.format(id=owned[route.resource][0])
            for credential in route.credentials:
                status, _, content = await _call(http, route.method, url, owner[credential])
                assert status == route.owner_status, (route, credential, content)

    for route in ROUTES:
        for credential in route.credentials:
            headers = other[credential]
            [missing, *more_missing] = [
                await _call(http, route.method, base + route.path.format(id=id_), headers)
                for id_ in unknown[route.resource]
            ]
            assert missing[0] == route.refused, (route, credential, missing)
            assert all(answer == missing for answer in more_missing), (route, credential)
            for id_ in owned[route.resource]:
                theirs = await _call(http, route.method, base + route.path.format(id=id_), headers)
                assert theirs == missing, (route, credential, id_, theirs, missing)

    # Lists show only the caller's own items.
    for credential in ("key", "session"):
        jobs = await _json(http, "GET", f"{base}/api/v1/jobs", other[credential])
        assert jobs["data"]["items"] == [] and jobs["data"]["pagination"]["total_items"] == 0
        hooks = await _json(http, "GET", f"{base}/webhooks", other[credential])
        assert hooks["webhooks"] == []
        files = await _json(http, "GET", f"{base}/api/v1/files", other[credential])
        assert files["data"]["items"] == [] and files["data"]["pagination"]["total_items"] == 0
        saved = await _json(http, "GET", f"{base}/ondemand/credentials/google-drive", other[credential])
        assert saved == {"credentials": []}
    keys = await _json(http, "GET", f"{base}/api-keys", other["session"])
    assert admin_new_key["id"] not in [k["id"] for k in keys["keys"]]
    assert [k["name"] for k in keys["keys"]] == ["test"]  # only its own (from new_key)
    admin_jobs = await _json(http, "GET", f"{base}/api/v1/jobs", admin_key)
    assert {j["id"] for j in admin_jobs["data"]["items"]} == {job_id, active_id}  # the list itself works
    admin_keys = await _json(http, "GET", f"{base}/api-keys", admin_session)
    assert admin_new_key["id"] in [k["id"] for k in admin_keys["keys"]]

    # Nothing the other account tried had an effect.
    assert (await _json(http, "GET", f"{base}/ondemand/status/{active_id}", admin_key))["status"] != "canceled"
    after = await _json(http, "GET", f"{base}/ondemand/status/{job_id}", admin_key)
    assert after["status"] == "success"
    new_key = {"X-API-Key": admin_new_key["key"]}
    assert (await _json(http, "GET", f"{base}/api/v1/auth/test-protected", new_key))["user_id"]
    assert (await _json(http, "GET", f"{base}/ondemand/status/{job_id}", new_key))["jobId"] == job_id
    assert (await _json(http, "GET", f"{base}/api-keys/{admin_new_key['id']}", admin_session))["name"] == "admin's"
    assert [h["id"] for h in (await _json(http, "GET", f"{base}/webhooks", admin_key))["webhooks"]] == [hook["id"]]
    assert (await _json(http, "GET", f"{base}/api/v1/files/{file['id']}", admin_key))["data"]["id"] == file["id"]
    saved = await _json(http, "GET", f"{base}/ondemand/credentials/google-drive", admin_key)
    assert [c["id"] for c in saved["credentials"]] == [saved_key["id"]]

    # The owner can still cancel its own job (and the test does not wait for a long encode).
    status, _, content = await _call(http, "DELETE", f"{base}/ondemand/{active_id}", admin_key)
    assert status in (200, 409), content
    ended, _ = await follow(http, base, platform.admin_key, active_id)
    assert ended["status"] in ("canceled", "success"), ended
