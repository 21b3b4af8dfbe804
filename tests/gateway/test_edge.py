"""The edge: credentials, request hygiene and both error dialects, against the running platform."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from tests.harness import Platform


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, dict[str, Any], CIMultiDictProxy[str]]:
    async with http.request(method, url, **kwargs) as resp:
        return resp.status, await resp.json(), resp.headers


async def test_credentials_are_required_and_checked(edge: Platform, http: aiohttp.ClientSession) -> None:
    url = f"{edge.base_url}/ondemand/status/00000000-0000-0000-0000-000000000000"
    status, body, headers = await _call(http, "GET", url)
    assert (status, body["code"]) == (401, "invalid_api_key")
    assert headers["WWW-Authenticate"].startswith("Bearer")
    for headers_ in ({"X-API-Key": "cvr_not-a-real-key"}, {"Authorization": "Bearer cvr_nope"}, {"X-API-Key": "x"}):
        status, body, _ = await _call(http, "GET", url, headers=headers_)
        assert (status, body["code"]) == (401, "invalid_api_key"), headers_
    # An empty Authorization header (the SDK's login quirk) is ignored in favour of X-API-Key.
    status, body, _ = await _call(http, "GET", url, headers={"Authorization": "", "X-API-Key": edge.admin_key})
    assert (status, body["code"]) == (404, "not_found")

    media = f"{edge.base_url}/api/v1/jobs"
    status, body, _ = await _call(http, "GET", media)
    assert status == 401 and body == {
        "success": False,
        "error": {"code": "AUTH_REQUIRED", "message": body["error"]["message"], "details": None},
    }
    status, body, _ = await _call(http, "GET", media, headers={"Authorization": "Bearer cvr_wrong"})
    assert (status, body["error"]["code"]) == (401, "AUTH_INVALID")
    status, body, _ = await _call(http, "GET", media, headers={"Authorization": f"Bearer {edge.admin_key}"})
    assert status == 200 and body["success"] is True


async def test_a_key_without_the_scope_is_refused(edge: Platform, http: aiohttp.ClientSession) -> None:
    reader = await edge.new_key(email="reader@example.com", scopes=("jobs:read",))
    status, body, _ = await _call(
        http,
        "POST",
        f"{edge.base_url}/ondemand/encode",
        json={"sourceUrl": "http://127.0.0.1:1/a.mp4"},
        headers={"X-API-Key": reader},
    )
    assert status == 403
    assert body == {"code": "missing_required_scope", "message": body["message"], "requiredScope": "jobs:create"}


@pytest.mark.parametrize(
    ("payload", "issues"),
    [
        ({"codec": "h264"}, [(["sourceUrl"], "Field required")]),
        ({"sourceUrl": 5}, [(["sourceUrl"], "Input should be a valid string")]),
        ({"sourceUrl": "http://x/a.mp4", "codec": "mpeg2"}, [(["codec"], None)]),
        ({"sourceUrl": "http://x/a.mp4", "resolution": "8640p"}, [(["resolution"], None)]),
        ({"sourceUrl": "http://x/a.mp4", "outputExpiry": "3600"}, [(["outputExpiry"], None)]),
        ({"sourceUrl": "http://x/a.mp4", "outputExpiry": 60}, [(["outputExpiry"], None)]),
        ({"sourceUrl": "http://x/a.mp4", "colour": "red"}, [(["colour"], "Extra inputs are not permitted")]),
        ({"sourceUrl": "http://x/a.mp4", "hls": {}}, [(["hls"], "is not supported by this server yet")]),
        ({"sourceUrl": "http://x/a.mp4", "fps": 241}, [(["fps"], "Input should be less than or equal to 240")]),
        ({"sourceUrl": "http://x/a.mp4", "fps": 0}, [(["fps"], "Input should be greater than or equal to 1")]),
        ({"sourceUrl": "http://x/a.mp4", "fps": "30"}, [(["fps"], "Input should be a valid integer")]),
        ({"sourceUrl": "http://x/a.mp4", "passes": 3}, [(["passes"], None)]),
        ({"sourceUrl": "http://x/a.mp4", "passes": True}, [(["passes"], None)]),
        ({"sourceUrl": "http://x/a.mp4", "frameRatePolicy": "vfr"}, [(["frameRatePolicy"], None)]),
        ({"sourceUrl": "http://x/a.mp4", "bitrateTier": "max"}, [(["bitrateTier"], None)]),
        ({"sourceUrl": "http://x/a.mp4", "posterAtSec": -1}, [(["posterAtSec"], None)]),
        ({"sourceUrl": "http://x/a.mp4", "metadata": [1]}, [(["metadata"], None)]),
        ([1, 2], [(["body"], None)]),
    ],
)
async def test_bad_bodies_get_invalid_body_with_issues(
    edge: Platform, http: aiohttp.ClientSession, payload: Any, issues: list[tuple[list[str], str | None]]
) -> None:
    status, body, _ = await _call(
        http, "POST", f"{edge.base_url}/ondemand/encode", json=payload, headers={"X-API-Key": edge.admin_key}
    )
    assert (status, body["code"]) == (400, "invalid_body"), body
    assert [i["path"] for i in body["issues"]] == [path for path, _ in issues]
    for issue, (_, message) in zip(body["issues"], issues, strict=True):
        if message is not None:
            assert issue["message"] == message


async def test_request_hygiene(edge: Platform, http: aiohttp.ClientSession) -> None:
    key = {"X-API-Key": edge.admin_key}
    url = f"{edge.base_url}/ondemand/encode"
    status, body, _ = await _call(
        http, "POST", url, data=b"{not json", headers=key | {"Content-Type": "application/json"}
    )
    assert (status, body["code"]) == (400, "invalid_body") and "not valid JSON" in body["message"]
    status, body, _ = await _call(http, "POST", url, data=b"sourceUrl=x", headers=key | {"Content-Type": "text/plain"})
    assert (status, body["code"]) == (415, "unsupported_content_type")
    huge = b'{"sourceUrl": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    status, body, _ = await _call(
        http, "POST", url, data=io.BytesIO(huge), headers=key | {"Content-Type": "application/json"}
    )
    assert (status, body["code"]) == (413, "payload_too_large")
    status, body, _ = await _call(http, "GET", f"{edge.base_url}/no/such/route", headers=key)
    assert (status, body["code"]) == (404, "not_found")
    status, body, _ = await _call(http, "PUT", f"{edge.base_url}/ondemand/encode", headers=key)
    assert (status, body["code"]) == (405, "method_not_allowed")
    status, body, _ = await _call(http, "GET", f"{edge.base_url}/api/v1/jobs?page=0", headers=key)
    assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert body["error"]["details"] == {"page": ["must be an integer from 1 to 1000000"]}


async def test_sources_are_checked_at_submit(edge: Platform, http: aiohttp.ClientSession, source_server: str) -> None:
    key = {"X-API-Key": edge.admin_key}
    url = f"{edge.base_url}/ondemand/encode"
    cases = [
        ("ftp://example.com/a.mp4", 400, "invalid_url"),
        ("not a url", 400, "invalid_url"),
        (f"{source_server}/media/missing.mp4", 400, "source_unreachable"),
        ("http://127.0.0.1:1/a.mp4", 400, "source_unreachable"),
    ]
    for source, want_status, want_code in cases:
        status, body, _ = await _call(http, "POST", url, json={"sourceUrl": source}, headers=key)
        assert (status, body["code"]) == (want_status, want_code), (source, body)
    status, body, _ = await _call(
        http, "POST", url, json={"sourceUrl": f"{source_server}/media/hd.mp4", "outputDropbox": {}}, headers=key
    )
    assert (status, body["code"]) == (410, "deprecated_dropbox")
    status, body, _ = await _call(
        http, "POST", url, json={"sourceUrl": f"{source_server}/media/hd.mp4", "container": "webm"}, headers=key
    )
    assert (status, body["code"]) == (400, "incompatible_options")
    assert body["issues"] == [{"path": ["codec"], "message": "not playable in webm"}]


async def test_download_links_are_signed(edge: Platform, http: aiohttp.ClientSession) -> None:
    base = f"{edge.base_url}/cdn/outputs/x/output.mp4"
    for query in ("", "?expires=9999999999&name=a.mp4&sig=forged", "?expires=1&name=a.mp4&sig=x"):
        status, body, _ = await _call(http, "GET", base + query)
        assert (status, body["code"]) == (403, "forbidden")
