"""Outputs delivered to a customer's S3 bucket (moto, server mode) and Google Drive folder (a local
Drive v3 server), checked at submit, and the customer's secrets found nowhere they must not be."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlmodel import select

from protos.common.v1 import storage_pb2
from services.common.config import BaseServiceSettings
from services.common.db import open_database
from services.jobs.models import Job, JobsTable
from tests.e2e.customer import customer_platform, drive_fixture  # noqa: F401
from tests.e2e.helpers import follow
from tests.e2e.secrets import assert_nowhere, bus_recorder, haystacks
from tests.fakes.drive import DriveFake
from tests.fakes.s3 import FakeS3, S3Keys
from tests.fakes.s3 import fake_s3_fixture as fake_s3  # noqa: F401
from tests.harness import Platform


async def post(http: aiohttp.ClientSession, platform: Platform, body: dict[str, Any]) -> tuple[int, str]:
    async with http.post(
        f"{platform.base_url}/ondemand/encode", json=body, headers={"X-API-Key": platform.admin_key}
    ) as resp:
        return resp.status, await resp.text()


def s3_output(s3: FakeS3, bucket: str, keys: S3Keys, **extra: Any) -> dict[str, Any]:
    return {
        "bucket": bucket,
        "region": s3.region,
        "endpoint": s3.endpoint,
        "accessKeyId": keys.access_key_id,
        "secretAccessKey": keys.secret_access_key,
        "forcePathStyle": True,
        **extra,
    }


async def test_outputs_reach_s3_and_drive_and_the_secrets_appear_nowhere(
    platform: Platform,
    fake_s3: FakeS3,  # noqa: F811
    drive: DriveFake,
    source_server: str,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys = fake_s3.create_user()
    bucket = fake_s3.create_bucket()
    token = drive.add_token()
    folder = drive.add_folder("encoded")
    caplog.set_level(logging.DEBUG)  # from here on (the test's own IAM set-up above logs the key at DEBUG)
    caplog.clear()
    secrets = [keys.secret_access_key, token]
    answers: list[str] = []
    async with bus_recorder(platform.nats.url) as bus:
        async with aiohttp.ClientSession() as http:
            status, created = await post(
                http,
                platform,
                {
                    "sourceUrl": f"{source_server}/media/hd.mp4",
                    "resolution": "720p",
                    "outputS3": s3_output(fake_s3, bucket, keys, key="encoded/clip.mp4"),
                    "outputGoogleDrive": {"folderId": folder, "fileName": "clip-720p.mp4", "accessToken": token},
                },
            )
            answers.append(created)
            assert status == 200, created
            job_id = _json(created)["jobId"]
            final, _ = await follow(http, platform.base_url, platform.admin_key, job_id)
            answers.append(repr(final))
            assert final["status"] == "success", final
            assert final["destination"] == {"type": "s3", "bucket": bucket, "key": "encoded/clip.mp4"}
            async with http.get(final["downloadUrl"]) as resp:
                produced = await resp.read()
        caplog.set_level(logging.WARNING)  # the check below is the test's own
        stored = fake_s3.client().get_object(Bucket=bucket, Key="encoded/clip.mp4")["Body"].read()
        assert stored == produced and len(produced) > 1000
        [uploaded] = drive.children(folder)
        assert (uploaded.name, uploaded.content) == ("clip-720p.mp4", produced)

    # The job is over: its sealed credentials are gone from the jobs database too.
    settings = BaseServiceSettings(data_dir=platform.data_dir, database_url=platform.database_url)
    async with open_database(settings.database_url_for("jobs"), JobsTable.metadata) as sessions:
        async with sessions() as session:
            job = (await session.exec(select(Job))).one()
    assert job.destination is not None
    kept = storage_pb2.Destination.FromString(job.destination)
    assert (kept.s3.bucket, kept.s3.credentials, kept.google_drive.credentials) == (bucket, "", "")

    assert caplog.text
    places = haystacks(logs=caplog.text, spans=spans, bus=bus, answers=answers, data_dir=platform.data_dir)
    assert_nowhere(secrets, places)


def _json(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value


async def test_destinations_are_checked_at_submit(
    platform: Platform,
    fake_s3: FakeS3,  # noqa: F811
    drive: DriveFake,
    source_server: str,
) -> None:
    keys = fake_s3.create_user()
    bucket = fake_s3.create_bucket()
    folder = drive.add_folder("encoded")
    wrong = S3Keys(keys.access_key_id, "not-the-secret")
    source = f"{source_server}/media/hd.mp4"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"outputS3": s3_output(fake_s3, bucket, wrong, key="a.mp4")}, 403, "storage_access_denied"),
        ({"outputS3": s3_output(fake_s3, "no-such-bucket-vk", keys, key="a.mp4")}, 404, "storage_not_found"),
        ({"outputS3": s3_output(fake_s3, bucket, keys)}, 400, "invalid_body"),  # no key, no prefix
        (
            {"outputS3": {**s3_output(fake_s3, bucket, keys, key="a"), "endpoint": "http://10.0.0.7:9000"}},
            400,
            "private_ip_blocked",
        ),
        ({"outputGoogleDrive": {"folderId": folder, "accessToken": "expired"}}, 401, "google_drive_not_connected"),
        ({"outputGoogleDrive": {"folderId": folder}}, 401, "google_drive_not_connected"),
        ({"outputGoogleDrive": {"folderId": "missing", "accessToken": drive.add_token()}}, 404, "storage_not_found"),
        ({"outputDropbox": {"path": "/x"}}, 410, "deprecated_dropbox"),
    ]
    async with aiohttp.ClientSession() as http:
        for extra, expected, code in cases:
            status, text = await post(http, platform, {"sourceUrl": source, **extra})
            assert (status, _json(text)["code"]) == (expected, code), (extra, text)
            assert "not-the-secret" not in text
        async with http.get(f"{platform.base_url}/api/v1/jobs", headers={"X-API-Key": platform.admin_key}) as resp:
            assert (await resp.json())["data"]["items"] == []  # nothing was created


async def test_a_classic_job_reads_its_source_from_s3(
    platform: Platform,
    fake_s3: FakeS3,  # noqa: F811
    clips: dict[str, Path],
) -> None:
    keys = fake_s3.create_user()
    bucket = fake_s3.create_bucket()
    fake_s3.client().put_object(Bucket=bucket, Key="in/clip.mp4", Body=clips["silent"].read_bytes())
    body = {"codec": "h264", "resolution": "480p", "fps": 30, "confirm": True}
    source = s3_output(fake_s3, bucket, keys, key="in/clip.mp4")
    async with aiohttp.ClientSession() as http:
        headers = {"X-API-Key": platform.admin_key}
        missing = {**source, "key": "in/none.mp4"}
        async with http.post(f"{platform.base_url}/jobs", json={**body, "sourceS3": missing}, headers=headers) as resp:
            assert (resp.status, (await resp.json())["code"]) == (404, "storage_not_found")
        async with http.post(f"{platform.base_url}/jobs", json={**body, "sourceS3": source}, headers=headers) as resp:
            created = await resp.json()
            assert resp.status == 200, created
        assert created["upload"] is None and created["sourceFilename"] == "clip.mp4"
        final, _ = await follow(http, platform.base_url, platform.admin_key, created["jobId"])
        assert final["status"] == "success", final
