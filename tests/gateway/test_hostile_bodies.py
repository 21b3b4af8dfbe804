"""Bodies built to break the parser: 400 in the dialect's shape, never a 500 or a traceback."""

from __future__ import annotations

import logging

import aiohttp
import grpc
import pytest

from protos.common.v1 import storage_pb2
from protos.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from services.common.errors import R
from services.common.grpc_client import peer_error
from services.common.identity import bearer_metadata
from tests.harness import Platform

DEEP = b'{"metadata": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
SURROGATE = b'{"sourceUrl": "http://127.0.0.1:1/a.mp4", "metadata": {"\\ud800": 1}}'

ROUTES = [
    ("/ondemand/encode", "encode"),
    ("/jobs", "encode"),
    ("/webhooks", "encode"),
    ("/auth/login", "encode"),
    ("/api/v1/webhooks", "media"),
    ("/api/v1/files/00000000-0000-0000-0000-000000000000/signed-url", "media"),
]


def _code(body: dict[str, object], dialect: str) -> object:
    if dialect == "media":
        assert body["success"] is False
        error = body["error"]
        assert isinstance(error, dict)
        return error["code"]
    return body["code"]


@pytest.mark.parametrize(
    "payload", [DEEP, b"[" * 100_000, SURROGATE, b'{"a": NaN}'], ids=["deep", "open", "lone", "nan"]
)
async def test_hostile_json_is_a_400_in_every_dialect(
    edge: Platform, payload: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"X-API-Key": edge.admin_key, "Content-Type": "application/json"}
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as http:
        for path, dialect in ROUTES:
            async with http.post(f"{edge.base_url}{path}", data=payload, headers=headers) as resp:
                body = await resp.json()
                assert resp.status == 400, (path, body)
            expected = "VALIDATION_ERROR" if dialect == "media" else "invalid_body"
            assert _code(body, dialect) == expected, (path, body)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert "RecursionError" not in caplog.text


async def test_a_multipart_file_name_with_a_nul_is_refused(edge: Platform) -> None:
    headers = {"X-API-Key": edge.admin_key}
    async with aiohttp.ClientSession() as http:
        for disposition in (
            'form-data; name="file"; filename="a\x00b.mp4"',
            "form-data; name=file; filename*=UTF-8''a%00b.mp4",
        ):
            body = (
                b"--xyz\r\nContent-Disposition: "
                + disposition.encode("latin-1")
                + b"\r\nContent-Type: video/mp4\r\n\r\nnot really a video\r\n--xyz--\r\n"
            )
            async with http.post(
                f"{edge.base_url}/api/v1/files/upload",
                data=body,
                headers=headers | {"Content-Type": "multipart/form-data; boundary=xyz"},
            ) as resp:
                answer = await resp.json()
                assert resp.status == 400, answer
                assert answer["error"]["code"] == "VALIDATION_ERROR"
                assert "\x00" not in answer["error"]["message"]
        async with http.get(f"{edge.base_url}/api/v1/files", headers=headers) as resp:
            assert (await resp.json())["data"]["pagination"]["total_items"] == 0  # nothing half-stored


@pytest.mark.parametrize(
    "metadata",
    ['{"\\ud800": 1}', "[" * 5000 + "]" * 5000, '{"a": ' + "[" * 40 + "]" * 40 + "}", "[1]"],
    ids=["surrogate", "deep", "deeper-than-32", "not-an-object"],
)
async def test_jobs_refuses_such_metadata_from_grpc_callers(edge: Platform, metadata: str) -> None:
    """The owner checks too: gRPC callers skip the gateway's parser."""
    request = jobs_pb2.CreateJobRequest(
        options=jobs_pb2.EncodeOptions(resolution="480p"),
        source=storage_pb2.Source(url="http://127.0.0.1:1/a.mp4"),
        metadata_json=metadata,
    )
    async with grpc.aio.insecure_channel(edge.services["jobs"].addr) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await jobs_pb2_grpc.JobServiceStub(channel).CreateJob(
                request, metadata=bearer_metadata(edge.admin_key), timeout=10
            )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (peer := peer_error(refused.value)) is not None
    assert peer.reason == R.BODY_INVALID and [v.field for v in peer.violations] == ["metadata"]
