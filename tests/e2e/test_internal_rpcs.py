"""Internal RPCs take internal scopes no API key can carry; and each store has its one owner."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider

from protos.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from services.common import blobkeys
from services.common.identity import DELETE_OBJECTS, Principal, TokenSigner, bearer_metadata
from tests.conftest import start_platform
from tests.harness import NatsServer, Platform

ROOT = Path(__file__).resolve().parents[2]


async def test_deleting_objects_takes_the_internal_scope(
    tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider
) -> None:
    platform: Platform = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with platform.stack:
        mine, theirs = uuid.uuid4(), uuid.uuid4()
        upload = blobkeys.upload_source(theirs, str(uuid.uuid4()))
        request = ingest_pb2.DeleteObjectsRequest(keys=[blobkeys.output(uuid.uuid4(), "mp4")])
        internal = bearer_metadata(platform.token_for(Principal(account_id=mine, scopes=frozenset({DELETE_OBJECTS}))))
        forged = TokenSigner(b"not the platform key").issue(Principal(mine, frozenset({DELETE_OBJECTS})))[0]
        async with grpc.aio.insecure_channel(platform.services["ingest"].addr) as channel:
            ingest = ingest_pb2_grpc.IngestServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await ingest.DeleteObjects(request, metadata=bearer_metadata(platform.admin_key), timeout=10)
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED  # even the admin's key
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await ingest.DeleteObjects(request, metadata=bearer_metadata(forged), timeout=10)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert (await ingest.DeleteObjects(request, metadata=internal, timeout=10)).deleted == 0
            for keys in ([upload], [blobkeys.file_content("a" * 64)], ["outputs/../files/x"]):
                with pytest.raises(grpc.aio.AioRpcError) as wrong:
                    await ingest.DeleteObjects(
                        ingest_pb2.DeleteObjectsRequest(keys=keys), metadata=internal, timeout=10
                    )
                assert wrong.value.code() == grpc.StatusCode.INVALID_ARGUMENT, keys


def test_jobs_never_opens_the_blob_store() -> None:
    """jobs asks ingest; nothing under services/jobs imports the blob store or asks settings for it."""
    for path in (ROOT / "services" / "jobs").rglob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module is not None
        }
        assert not imported & {"services.common.blobstore", "services.common.s3blobs"}, path
        calls = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert "blob_store" not in calls, path
