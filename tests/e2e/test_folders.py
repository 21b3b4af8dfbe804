"""Folder ingest: one job per video in a customer's S3 prefix or Drive folder, delivered where asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.customer import customer_platform, drive_fixture  # noqa: F401
from tests.e2e.helpers import follow
from tests.fakes.drive import DriveFake
from tests.fakes.s3 import FakeS3, S3Keys
from tests.fakes.s3 import fake_s3_fixture as fake_s3  # noqa: F401
from tests.harness import Platform


async def ingest(
    http: aiohttp.ClientSession, platform: Platform, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    async with http.post(
        f"{platform.base_url}/ondemand/ingest/folder",
        json=body,
        headers={"X-API-Key": platform.admin_key, **(headers or {})},
    ) as resp:
        return resp.status, json.loads(await resp.text())


def s3_part(s3: FakeS3, bucket: str, keys: S3Keys, prefix: str) -> dict[str, Any]:
    return {
        "bucket": bucket,
        "prefix": prefix,
        "region": s3.region,
        "endpoint": s3.endpoint,
        "accessKeyId": keys.access_key_id,
        "secretAccessKey": keys.secret_access_key,
    }


async def test_an_s3_prefix_becomes_one_job_per_video_delivered_to_s3(
    platform: Platform,
    fake_s3: FakeS3,  # noqa: F811
    clips: dict[str, Path],
) -> None:
    keys = fake_s3.create_user()
    source, target = fake_s3.create_bucket(), fake_s3.create_bucket()
    client = fake_s3.client()
    video = clips["silent"].read_bytes()
    for key in ("incoming/a.mp4", "incoming/sub/b.MOV", "incoming/notes.txt", "elsewhere/c.mp4"):
        client.put_object(Bucket=source, Key=key, Body=video if not key.endswith(".txt") else b"text")
    async with aiohttp.ClientSession() as http:
        status, answer = await ingest(
            http,
            platform,
            {
                "sourceS3": s3_part(fake_s3, source, keys, "incoming/"),
                "outputDestination": "s3",
                "outputS3": s3_part(fake_s3, target, keys, "encoded/"),
                "resolution": "480p",
                "externalIdPrefix": "batch-1",
            },
        )
        assert status == 200, answer
        assert sorted(j["fileName"] for j in answer["jobs"]) == ["a.mp4", "b.MOV"]
        assert {j["externalId"] for j in answer["jobs"]} == {"batch-1:a.mp4", "batch-1:b.MOV"}
        for job in answer["jobs"]:
            final, _ = await follow(http, platform.base_url, platform.admin_key, job["jobId"])
            assert final["status"] == "success", final
    listed = client.list_objects_v2(Bucket=target, Prefix="encoded/")
    assert sorted(o["Key"] for o in listed["Contents"]) == ["encoded/a-480p.mp4", "encoded/b-480p.mp4"]


async def test_a_drive_folder_becomes_jobs_delivered_to_drive(
    platform: Platform, drive: DriveFake, clips: dict[str, Path]
) -> None:
    token = drive.add_token()
    source, target = drive.add_folder("in"), drive.add_folder("out")
    video = clips["silent"].read_bytes()
    drive.add_file("one.mp4", source, content=video, mime_type="video/mp4")
    drive.add_file("two.webm", source, content=video, mime_type="video/webm")
    drive.add_file("notes", source, content=None, mime_type="application/vnd.google-apps.document")
    async with aiohttp.ClientSession() as http:
        status, answer = await ingest(
            http,
            platform,
            {
                "sourceGoogleDrive": {"folderId": source, "accessToken": token},
                "outputDestination": "google-drive",
                "outputGoogleDrive": {"folderId": target, "accessToken": token},
                "resolution": "480p",
                "maxFiles": 1,
            },
        )
        assert status == 200, answer
        [job] = answer["jobs"]  # maxFiles
        final, _ = await follow(http, platform.base_url, platform.admin_key, job["jobId"])
        assert final["status"] == "success", final
    [out] = drive.children(target)
    assert out.name == f"{Path(job['fileName']).stem}-480p.mp4" and out.content


async def test_folder_ingest_refusals_and_idempotency(
    platform: Platform,
    fake_s3: FakeS3,  # noqa: F811
    drive: DriveFake,
    clips: dict[str, Path],
) -> None:
    keys = fake_s3.create_user()
    bucket = fake_s3.create_bucket()
    fake_s3.client().put_object(Bucket=bucket, Key="docs/readme.txt", Body=b"text")
    fake_s3.client().put_object(Bucket=bucket, Key="v/clip.mp4", Body=clips["silent"].read_bytes())
    folder = drive.add_folder("in")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"sourceS3": s3_part(fake_s3, bucket, keys, "docs/")}, 404, "no_video_files_found"),
        (
            {"sourceS3": s3_part(fake_s3, bucket, S3Keys(keys.access_key_id, "wrong"), "v/")},
            403,
            "storage_access_denied",
        ),
        ({"sourceGoogleDrive": {"folderId": folder, "accessToken": "expired"}}, 401, "google_drive_not_connected"),
        ({"sourceGoogleDrive": {"folderId": folder}}, 401, "google_drive_not_connected"),
        ({"sourceDropbox": {"path": "/x"}}, 410, "deprecated_dropbox"),
        ({}, 400, "invalid_body"),
        ({"sourceS3": s3_part(fake_s3, bucket, keys, "v/"), "outputDestination": "s3"}, 400, "invalid_body"),
        ({"sourceS3": s3_part(fake_s3, bucket, keys, "v/"), "maxFiles": 1001}, 400, "invalid_body"),
    ]
    async with aiohttp.ClientSession() as http:
        for body, expected, code in cases:
            status, answer = await ingest(http, platform, body)
            assert (status, answer.get("code")) == (expected, code), (body, answer)
            assert "wrong" not in json.dumps(answer)
        body = {"sourceS3": s3_part(fake_s3, bucket, keys, "v/")}
        first = await ingest(http, platform, body, {"Idempotency-Key": "folder-1"})
        again = await ingest(http, platform, body, {"Idempotency-Key": "folder-1"})
        assert first[0] == again[0] == 200 and first[1]["jobs"] == again[1]["jobs"] and len(first[1]["jobs"]) == 1
