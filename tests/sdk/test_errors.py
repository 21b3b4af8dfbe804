"""Errors from a live gateway arrive as exceptions carrying the platform's stable code, in both dialects."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.harness import Platform
from vidkiln.client import (
    APIError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    Issue,
    NotFoundError,
    PermissionDeniedError,
)


def _raises(kind: type[APIError], call: object, *args: object, **kwargs: object) -> APIError:
    assert callable(call)
    with pytest.raises(kind) as caught:
        call(*args, **kwargs)
    return caught.value


def _check_codes(platform: Platform, source: str, reader_key: str) -> None:
    """Every error the SDK reads, called synchronously (run in a thread: the platform shares the test's loop)."""
    missing = str(uuid.uuid4())
    with Client(platform.base_url, api_key=platform.admin_key) as client:
        gone = _raises(NotFoundError, client.encode.on_demand_status, missing)
        assert (gone.status, gone.code) == (404, "not_found")
        gone = _raises(NotFoundError, client.media.jobs.get, missing)
        assert (gone.status, gone.code) == (404, "RESOURCE_NOT_FOUND") and gone.message

        bad = _raises(BadRequestError, client.encode.on_demand_encode, {"sourceUrl": source, "codec": "mpeg1"})
        assert (bad.status, bad.code) == (400, "invalid_body")
        assert [i.path for i in bad.issues] == [("codec",)] and bad.issues[0].message
        bad = _raises(BadRequestError, client.media.jobs.list, status="sleeping")
        assert (bad.code, bad.issues) == ("VALIDATION_ERROR", (Issue(("status",), bad.issues[0].message),))

        first = client.encode.on_demand_encode(source_url=source, idempotency_key="k-1", external_id="a")
        again = client.encode.on_demand_encode(source_url=source, idempotency_key="k-1", external_id="a")
        assert again.job_id == first.job_id  # the same key and body: the first answer again
        clash = _raises(ConflictError, client.encode.on_demand_encode, source_url=source, idempotency_key="k-1")
        assert (clash.status, clash.code) == (409, "idempotency_conflict")

    with Client(platform.base_url, api_key=reader_key) as reader:
        denied = _raises(PermissionDeniedError, reader.encode.on_demand_encode, source_url=source)
        assert (denied.status, denied.code, denied.required_scope) == (403, "missing_required_scope", "jobs:create")
        denied = _raises(PermissionDeniedError, reader.media.jobs.cancel, first.job_id)
        assert (denied.code, denied.required_scope) == ("PERMISSION_DENIED", "jobs:cancel")

    with Client(platform.base_url, api_key="cvr_" + "0" * 43) as stranger:
        refused = _raises(AuthenticationError, stranger.encode.get_balance)
        assert (refused.status, refused.code) == (401, "invalid_api_key")
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert _raises(AuthenticationError, stranger.media.auth.me).code == "AUTH_INVALID"
    with Client(platform.base_url) as anonymous:
        assert _raises(AuthenticationError, anonymous.media.jobs.list).code == "AUTH_REQUIRED"


async def test_errors_carry_the_stable_code_status_issues_and_required_scope(
    bare: Platform, source_server: str
) -> None:
    reader = await bare.new_key(email="reader@example.com", scopes=("jobs:read",))
    await asyncio.to_thread(_check_codes, bare, f"{source_server}/media/silent.mp4", reader)


async def test_the_async_client_raises_the_same_errors(bare: Platform) -> None:
    async with AsyncClient(bare.base_url, api_key=bare.admin_key) as client:
        with pytest.raises(NotFoundError) as gone:
            await client.encode.job_status(str(uuid.uuid4()))
        with pytest.raises(BadRequestError) as bad:
            await client.encode.bulk_status([])
    assert gone.value.code == "not_found"
    assert (bad.value.code, [i.path for i in bad.value.issues]) == ("invalid_request", [("ids",)])
