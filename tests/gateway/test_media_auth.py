"""The Media API's /api/v1/auth/* routes against the running platform, and which credentials reach them."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from gateway.permissions import PERMISSIONS
from services.auth import domain
from services.auth.models import AuthTable
from services.common.db import open_database
from services.common.identity import Principal, TokenSigner
from tests.harness import SECRET, Platform

PASSWORD = "media-auth-password"
PROTECTED = [
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/auth/permissions"),
    ("GET", "/api/v1/auth/test-protected"),
    ("GET", "/api/v1/auth/test-verified"),
    ("POST", "/api/v1/auth/verify"),
]
ME_FIELDS = {"id", "username", "full_name", "email", "image_url", "email_verified", "created_at", "last_sign_in_at"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with http.request(method, url, **kwargs) as resp:
        return resp.status, await resp.json(), dict(resp.headers)


async def _password_account(platform: Platform, *, email: str, verified: bool) -> str:
    """A USER account with PASSWORD, made through the auth use cases; its id."""
    async with open_database(platform.auth_db_url, AuthTable.metadata) as sessions:
        deps = domain.Deps(sessions=sessions, signer=TokenSigner(SECRET.encode()))
        account = await domain.create_account(deps, email=email, password=PASSWORD, email_verified=verified)
    return str(account.id)


async def _login(http: aiohttp.ClientSession, platform: Platform, email: str) -> str:
    status, body, _ = await _call(
        http, "POST", f"{platform.base_url}/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert status == 200, body
    token: str = body["accessToken"]
    return token


def _bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def _instant(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


async def test_health_and_status(platform: Platform, http: aiohttp.ClientSession) -> None:
    base = platform.base_url
    before = datetime.now(UTC) - timedelta(seconds=1)
    status, body, _ = await _call(http, "GET", f"{base}/api/v1/auth/health")
    assert status == 200 and body["status"] == "healthy", body
    assert body["auth"]["status"] == "healthy"
    assert re.fullmatch(r"\d+ms", body["auth"]["response_time"])
    assert before <= _instant(body["auth"]["last_check"]) <= datetime.now(UTC)
    assert isinstance(body["message"], str)

    url = f"{base}/api/v1/auth/status"
    status, body, _ = await _call(http, "GET", url)
    assert status == 200
    assert body == {
        "authenticated": False,
        "message": "No authentication provided",
        "request_context": {"path": "/auth/status", "method": "GET", "client_ip": "127.0.0.1"},
    }
    for bad in (_bearer("not-a-token"), _bearer("cvr_not-a-key"), {"X-API-Key": "cvr_not-a-key"}):
        status, body, _ = await _call(http, "GET", url, headers=bad)
        assert status == 200, (bad, body)
        assert body["authenticated"] is False and "user_id" not in body, bad
        assert body["request_context"]["path"] == "/auth/status"

    key = await platform.new_key(email="status@example.com", scopes=("jobs:read",))
    status, me, _ = await _call(http, "GET", f"{base}/api/v1/auth/me", headers={"X-API-Key": key})
    assert status == 200, me
    status, body, _ = await _call(http, "GET", url, headers=_bearer(key))
    assert status == 200
    assert body == {
        "authenticated": True,
        "user_id": me["id"],
        "email": "status@example.com",
        "email_verified": False,
        "request_context": {"path": "/auth/status", "method": "GET", "client_ip": "127.0.0.1"},
    }

    account_id = await _password_account(platform, email="status-session@example.com", verified=True)
    session = _bearer(await _login(http, platform, "status-session@example.com"))
    status, body, _ = await _call(http, "GET", url, headers=session)
    assert status == 200
    assert (body["authenticated"], body["user_id"], body["email_verified"]) == (True, account_id, True)


async def test_profile_and_permissions(platform: Platform, http: aiohttp.ClientSession) -> None:
    base = platform.base_url
    account_id = await _password_account(platform, email="pat@example.com", verified=True)
    session = _bearer(await _login(http, platform, "pat@example.com"))
    status, me, _ = await _call(http, "GET", f"{base}/api/v1/auth/me", headers=session)
    assert status == 200, me
    assert set(me) == ME_FIELDS
    assert (me["id"], me["email"], me["email_verified"]) == (account_id, "pat@example.com", True)
    assert isinstance(me["username"], str) and me["username"]
    assert me["full_name"] is None or isinstance(me["full_name"], str)
    assert me["image_url"] is None or isinstance(me["image_url"], str)
    created, signed_in = _instant(me["created_at"]), _instant(me["last_sign_in_at"])
    assert created <= signed_in <= datetime.now(UTC)

    reader = await platform.new_key(email="reader@example.com", scopes=("jobs:read",))
    status, reader_me, _ = await _call(http, "GET", f"{base}/api/v1/auth/me", headers={"X-API-Key": reader})
    assert status == 200 and set(reader_me) == ME_FIELDS
    assert (reader_me["email"], reader_me["email_verified"]) == ("reader@example.com", False)
    assert reader_me["last_sign_in_at"] is None  # it never logged in
    assert reader_me["id"] != account_id

    url = f"{base}/api/v1/auth/permissions"
    status, body, _ = await _call(http, "GET", url, headers={"X-API-Key": reader})
    assert status == 200
    assert body == {
        "user_id": reader_me["id"],
        "role": "USER",
        "permissions": list(PERMISSIONS["jobs:read"]),
        "access_level": "standard",
    }

    status, body, _ = await _call(http, "GET", url, headers=session)
    assert status == 200
    assert (body["user_id"], body["role"], body["access_level"]) == (account_id, "USER", "standard")
    assert "manage_api_keys" in body["permissions"] and "admin" not in body["permissions"]
    every_scope = {name for names in PERMISSIONS.values() for name in names}
    assert every_scope <= set(body["permissions"])
    assert len(body["permissions"]) == len(set(body["permissions"]))

    status, body, _ = await _call(http, "GET", url, headers={"X-API-Key": platform.admin_key})
    assert status == 200
    assert (body["role"], body["access_level"]) == ("ADMIN", "admin")
    assert "admin" in body["permissions"] and every_scope <= set(body["permissions"])
    assert "manage_api_keys" not in body["permissions"]  # an API key, not a session


async def test_protected_verified_and_verify(platform: Platform, http: aiohttp.ClientSession) -> None:
    base = platform.base_url
    verified_id = await _password_account(platform, email="verified@example.com", verified=True)
    verified = _bearer(await _login(http, platform, "verified@example.com"))
    unverified_key = await platform.new_key(email="unverified@example.com")
    unverified = {"X-API-Key": unverified_key}
    status, unverified_me, _ = await _call(http, "GET", f"{base}/api/v1/auth/me", headers=unverified)
    assert status == 200

    before = datetime.now(UTC) - timedelta(seconds=1)
    for headers, account_id in ((verified, verified_id), (unverified, unverified_me["id"])):
        status, body, _ = await _call(http, "GET", f"{base}/api/v1/auth/test-protected", headers=headers)
        assert status == 200, body
        assert set(body) == {"message", "user_id", "timestamp"} and body["user_id"] == account_id
        assert isinstance(body["message"], str) and body["message"]
        assert before <= _instant(body["timestamp"]) <= datetime.now(UTC)

    status, body, _ = await _call(http, "GET", f"{base}/api/v1/auth/test-verified", headers=verified)
    assert status == 200, body
    assert (body["user_id"], body["email"], body["email_verified"]) == (verified_id, "verified@example.com", True)
    assert isinstance(body["message"], str) and before <= _instant(body["timestamp"])

    status, body, _ = await _call(http, "GET", f"{base}/api/v1/auth/test-verified", headers=unverified)
    assert status == 403
    assert body == {
        "success": False,
        "error": {"code": "PERMISSION_DENIED", "message": body["error"]["message"], "details": None},
    }
    assert body["error"]["message"]

    for headers, account_id, email, is_verified in (
        (verified, verified_id, "verified@example.com", True),
        (unverified, unverified_me["id"], "unverified@example.com", False),
    ):
        status, body, _ = await _call(http, "POST", f"{base}/api/v1/auth/verify", headers=headers)
        assert status == 200, body
        assert body["verified"] is True and isinstance(body["message"], str)
        assert (body["user_id"], body["email"], body["email_verified"]) == (account_id, email, is_verified)


async def test_credentials_on_protected_routes(platform: Platform, http: aiohttp.ClientSession) -> None:
    base = platform.base_url
    await _password_account(platform, email="creds@example.com", verified=True)
    status, tokens, _ = await _call(
        http, "POST", f"{base}/auth/login", json={"email": "creds@example.com", "password": PASSWORD}
    )
    assert status == 200, tokens
    access, refresh = tokens["accessToken"], tokens["refreshToken"]
    answers = [
        await _call(http, "POST", f"{base}/auth/login", json={"email": email, "password": password})
        for email, password in (("creds@example.com", PASSWORD + "!"), ("nobody@example.com", PASSWORD))
    ]
    wrong, unknown_email = ((status, body) for status, body, _ in answers)
    assert wrong == unknown_email and wrong[0] == 401, answers  # a login does not tell which was wrong
    expired = TokenSigner(SECRET.encode()).issue(
        Principal(account_id=uuid.uuid4(), scopes=frozenset(), session=True),
        now=datetime.now(UTC) - timedelta(hours=1),
    )[0]
    forged = TokenSigner(b"some-other-platform-key").issue(
        Principal(account_id=uuid.uuid4(), scopes=frozenset(domain.ALL_SCOPES), role="ADMIN", session=True)
    )[0]
    refused: list[tuple[dict[str, str], int, str]] = [
        ({}, 401, "AUTH_REQUIRED"),
        ({"Authorization": ""}, 401, "AUTH_REQUIRED"),
        ({"Authorization": "Bearer "}, 401, "AUTH_REQUIRED"),
        (_bearer("not-a-token"), 401, "AUTH_INVALID"),
        (_bearer("cvr_not-a-key"), 401, "AUTH_INVALID"),
        ({"X-API-Key": "cvr_not-a-key"}, 401, "AUTH_INVALID"),
        (_bearer(refresh), 401, "AUTH_INVALID"),  # a refresh token is not an access token
        (_bearer(forged), 401, "AUTH_INVALID"),
        (_bearer(expired), 401, "AUTH_EXPIRED"),
    ]
    for method, path in PROTECTED:
        for headers, want_status, want_code in refused:
            status, body, response_headers = await _call(http, method, f"{base}{path}", headers=headers)
            assert status == want_status, (path, headers, body)
            assert body == {
                "success": False,
                "error": {"code": want_code, "message": body["error"]["message"], "details": None},
            }, (path, headers)
            assert response_headers["WWW-Authenticate"].startswith("Bearer")

    accepted = [
        _bearer(platform.admin_key),
        {"X-API-Key": platform.admin_key},
        _bearer(access),
        {"X-API-Key": access},
    ]
    for method, path in PROTECTED:
        for headers in accepted:
            status, body, _ = await _call(http, method, f"{base}{path}", headers=headers)
            assert status == 200, (path, headers, body)

    # The Encode API takes the access token too: a 404 (not a 401) shows the caller was let in.
    unknown = f"{base}/ondemand/status/{uuid.uuid4()}"
    status, body, _ = await _call(http, "GET", unknown)
    assert (status, body["code"]) == (401, "invalid_api_key")
    for headers in (_bearer(access), {"X-API-Key": access}):
        status, body, _ = await _call(http, "GET", unknown, headers=headers)
        assert (status, body["code"]) == (404, "not_found"), (headers, body)
    for headers in (_bearer(refresh), _bearer(forged)):
        status, body, _ = await _call(http, "GET", unknown, headers=headers)
        assert (status, body["code"]) == (401, "invalid_api_key"), (headers, body)
    status, body, _ = await _call(http, "GET", unknown, headers=_bearer(expired))
    assert (status, body["code"]) == (401, "api_key_expired")

    # /api-keys: the session's access token, never an API key.
    status, body, _ = await _call(http, "GET", f"{base}/api-keys", headers=_bearer(access))
    assert status == 200 and body == {"keys": []}
    status, body, _ = await _call(http, "GET", f"{base}/api-keys", headers=_bearer(platform.admin_key))
    assert (status, body["code"]) == (403, "forbidden")
