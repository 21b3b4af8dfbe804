"""Over gRPC alone, CreateJob takes every reference the REST API takes, with the same checks: ingest resolves them."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import grpc
import pytest

from protos.common.v1 import storage_pb2
from protos.ingest.v1 import credentials_pb2, credentials_pb2_grpc
from protos.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from services.common.grpc_client import peer_error
from services.common.identity import bearer_metadata
from tests.e2e.customer import customer_platform, drive_fixture  # noqa: F401
from tests.e2e.helpers import follow
from tests.fakes.drive import DriveFake
from tests.fakes.s3 import FakeS3
from tests.fakes.s3 import fake_s3_fixture as fake_s3  # noqa: F401
from tests.harness import Platform

Refs = storage_pb2.SourceRef


def _create(ref: Refs, **extra: object) -> jobs_pb2.CreateJobRequest:
    return jobs_pb2.CreateJobRequest(options=jobs_pb2.EncodeOptions(resolution="480p"), source_ref=ref, **extra)  # type: ignore[arg-type]


async def _upload(platform: Platform, key: str, content: bytes) -> str:
    form = aiohttp.FormData()
    form.add_field("file", content, filename="clip.mp4", content_type="video/mp4")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{platform.base_url}/api/v1/files/upload", data=form, headers={"X-API-Key": key}) as resp:
            answer = await resp.json()
            assert resp.status == 200, answer
            return str(answer["data"]["id"])


async def test_every_kind_of_reference_over_grpc(
    platform: Platform,
    drive: DriveFake,
    fake_s3: FakeS3,  # noqa: F811
    clips: dict[str, Path],
    source_server: str,
) -> None:
    video = clips["silent"].read_bytes()
    owner, stranger = platform.admin_key, await platform.new_key(email="stranger@example.com")
    me, them = bearer_metadata(owner), bearer_metadata(stranger)
    file_id = await _upload(platform, owner, video)
    keys = fake_s3.create_user()
    bucket = fake_s3.create_bucket()
    fake_s3.client().put_object(Bucket=bucket, Key="in/clip.mp4", Body=video)
    s3 = storage_pb2.S3Location(bucket=bucket, key="in/clip.mp4", endpoint=fake_s3.endpoint, force_path_style=True)
    s3_keys = storage_pb2.S3Keys(access_key_id=keys.access_key_id, secret_access_key=keys.secret_access_key)
    token = drive.add_token()
    folder = drive.add_folder("in")
    by_token = drive.add_file("token.mp4", folder, content=video)
    account = drive.accounts.create()
    robot = frozenset({str(account["client_email"])})
    by_key = drive.add_file("robot.mp4", drive.add_folder("robot", readers=robot), content=video, readers=robot)
    output = storage_pb2.DestinationRef(
        expiry_seconds=3600,
        s3=storage_pb2.S3Location(bucket=bucket, key="out/clip.mp4", endpoint=fake_s3.endpoint, force_path_style=True),
        s3_keys=s3_keys,
    )
    async with grpc.aio.insecure_channel(platform.services["jobs"].addr) as jobs_channel:
        async with grpc.aio.insecure_channel(platform.services["ingest"].addr) as ingest_channel:
            saved = await credentials_pb2_grpc.CredentialServiceStub(ingest_channel).CreateDriveCredential(
                credentials_pb2.CreateDriveCredentialRequest(name="robot", service_account_json=json.dumps(account)),
                metadata=me,
                timeout=10,
            )
        jobs = jobs_pb2_grpc.JobServiceStub(jobs_channel)
        accepted = {
            "url": _create(Refs(url=f"{source_server}/media/silent.mp4"), callback_url=f"{source_server}/hook"),
            "file": _create(Refs(file_id=file_id), destination_ref=output),
            "s3": _create(Refs(s3=s3, s3_keys=s3_keys)),
            "drive token": _create(
                Refs(
                    google_drive=storage_pb2.DriveLocation(file_id=by_token),
                    drive_access=storage_pb2.DriveAccess(access_token=token),
                )
            ),
            "drive credential": _create(
                Refs(
                    google_drive=storage_pb2.DriveLocation(file_id=by_key),
                    drive_access=storage_pb2.DriveAccess(credential_id=saved.id),
                )
            ),
        }
        created = {name: await jobs.CreateJob(request, metadata=me, timeout=30) for name, request in accepted.items()}
        assert all(job.status == jobs_pb2.JOB_STATUS_QUEUED for job in created.values()), created
        assert created["file"].source_filename == "clip.mp4"  # the stored file's own name
        assert created["url"].source_probe.width == 640  # resolved, then checked and probed as always
        assert not any(job.source.s3.credentials or job.source.google_drive.credentials for job in created.values())

        refused = {  # the same checks (and codes) as the REST API's
            "another's file": (_create(Refs(file_id=file_id)), "FILE_NOT_FOUND"),
            "another's credential": (
                _create(
                    Refs(
                        google_drive=storage_pb2.DriveLocation(file_id=by_key),
                        drive_access=storage_pb2.DriveAccess(credential_id=saved.id),
                    )
                ),
                "CREDENTIAL_NOT_FOUND",
            ),
            "private callback": (
                _create(Refs(url=f"{source_server}/media/silent.mp4"), callback_url="http://169.254.169.254/"),
                "PRIVATE_IP_BLOCKED",
            ),
            "a sealed token of one's making": (
                _create(Refs(s3=storage_pb2.S3Location(bucket=bucket, key="in/clip.mp4", credentials="forged"))),
                "BODY_INVALID",
            ),
            "no Drive access": (
                _create(Refs(google_drive=storage_pb2.DriveLocation(file_id=by_token))),
                "GOOGLE_DRIVE_NOT_CONNECTED",
            ),
        }
        for name, (request, reason) in refused.items():
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await jobs.CreateJob(request, metadata=them if "another" in name else me, timeout=30)
            found = peer_error(error.value)
            assert found is not None and found.reason_name == reason, (name, error.value.details())

    async with aiohttp.ClientSession() as http:
        for name in ("file", "drive credential"):
            done, _ = await follow(http, platform.base_url, owner, created[name].id)
            assert done["status"] == "success", (name, done)
    assert fake_s3.client().get_object(Bucket=bucket, Key="out/clip.mp4")["ContentLength"] > 0
