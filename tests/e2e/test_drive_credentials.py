"""Saved Google Drive service-account credentials (/ondemand/credentials/google-drive*) and jobs that use
them by `credentialId`: the local Drive v3 server mints tokens only for a correctly signed JWT grant."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.e2e.customer import customer_platform, drive_fixture  # noqa: F401
from tests.e2e.helpers import follow
from tests.e2e.secrets import assert_nowhere, bus_recorder, haystacks
from tests.fakes.drive import DriveFake
from tests.harness import Platform

ROUTE = "/ondemand/credentials/google-drive"


async def call(
    http: aiohttp.ClientSession, platform: Platform, method: str, path: str, key: str = "", **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with http.request(
        method, f"{platform.base_url}{path}", headers={"X-API-Key": key or platform.admin_key}, **kwargs
    ) as resp:
        text = await resp.text()
        return resp.status, json.loads(text) if text else {}


async def test_credentials_are_saved_listed_and_deleted_per_account(platform: Platform, drive: DriveFake) -> None:
    key = drive.accounts.create(project_id="acme-media")
    private = str(key["private_key"])
    other = await platform.new_key(email="other@example.com")
    reader = await platform.new_key(email="reader@example.com", scopes=("jobs:create", "jobs:read"))
    async with aiohttp.ClientSession() as http:
        status, first = await call(http, platform, "POST", ROUTE, json={"name": "Robot", "serviceAccount": key})
        assert status == 201, first
        assert first["clientEmail"] == key["client_email"] and first["projectId"] == "acme-media"
        assert set(first) == {"id", "name", "clientEmail", "projectId", "createdAt"}
        as_text = {"name": "From text", "serviceAccount": json.dumps({**key, "project_id": None})}
        status, second = await call(http, platform, "POST", ROUTE, json=as_text)
        assert status == 201 and second["projectId"] is None, second

        status, listed = await call(http, platform, "GET", ROUTE)
        assert status == 200 and [c["id"] for c in listed["credentials"]] == [second["id"], first["id"]]
        assert private[40:100] not in json.dumps(listed)
        assert (await call(http, platform, "GET", ROUTE, other))[1] == {"credentials": []}
        for path in (f"{ROUTE}/{first['id']}", f"{ROUTE}/not-a-uuid"):
            status, answer = await call(http, platform, "DELETE", path, other)
            assert (status, answer["code"]) == (404, "not_found"), answer
        status, answer = await call(http, platform, "GET", ROUTE, reader)
        assert (status, answer["code"]) == (403, "missing_required_scope"), answer

        refusals: list[tuple[Any, int, str]] = [
            ({"name": "x", "serviceAccount": {**key, "type": "authorized_user"}}, 400, "invalid_body"),
            (
                {"name": "x", "serviceAccount": {**key, "private_key": "-----BEGIN PRIVATE KEY-----"}},
                400,
                "invalid_body",
            ),
            ({"name": "x", "serviceAccount": "{broken"}, 400, "invalid_body"),
            ({"name": "", "serviceAccount": key}, 400, "invalid_body"),
            ({"serviceAccount": key}, 400, "invalid_body"),
            ({"name": "x", "serviceAccount": key, "shared": True}, 400, "invalid_body"),
            ({"name": "x", "serviceAccount": 7}, 400, "invalid_body"),
        ]
        for body, expected, code in refusals:
            status, answer = await call(http, platform, "POST", ROUTE, json=body)
            assert (status, answer.get("code")) == (expected, code), (body, answer)
            assert private[40:100] not in json.dumps(answer)
        json_type = {"Content-Type": "application/json", "X-API-Key": platform.admin_key}
        async with http.post(f"{platform.base_url}{ROUTE}", data=b"{", headers=json_type) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == "invalid_body"

        status, answer = await call(http, platform, "DELETE", f"{ROUTE}/{first['id']}")
        assert (status, answer) == (200, {"ok": True, "id": first["id"]})
        assert (await call(http, platform, "DELETE", f"{ROUTE}/{first['id']}"))[0] == 404
        assert [c["id"] for c in (await call(http, platform, "GET", ROUTE))[1]["credentials"]] == [second["id"]]


async def test_jobs_read_and_deliver_with_a_saved_credential_and_its_key_appears_nowhere(
    platform: Platform,
    drive: DriveFake,
    clips: dict[str, Path],
    source_server: str,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = drive.accounts.create()
    robot = frozenset({str(key["client_email"])})  # shared with the service account only
    source, target = drive.add_folder("in", readers=robot), drive.add_folder("out", readers=robot)
    video = clips["silent"].read_bytes()
    one = drive.add_file("one.mp4", source, content=video, readers=robot)
    two = drive.add_file("two.mov", source, content=video, mime_type="video/quicktime", readers=robot)
    drive.add_file("notes.txt", source, content=b"text", mime_type="text/plain", readers=robot)
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    async with bus_recorder(platform.nats.url) as bus:
        async with aiohttp.ClientSession() as http:
            status, saved = await call(http, platform, "POST", ROUTE, json={"name": "Robot", "serviceAccount": key})
            assert status == 201, saved
            cid = saved["id"]
            grants = drive.accounts.grants
            status, listing = await call(
                http,
                platform,
                "POST",
                "/ondemand/ingest/folder",
                json={
                    "sourceGoogleDrive": {"folderId": source, "credentialId": cid},
                    "outputDestination": "google-drive",
                    "outputGoogleDrive": {"folderId": target, "credentialId": cid},
                    "resolution": "480p",
                },
            )
            answers.append(json.dumps(listing))
            assert status == 200 and sorted(j["fileName"] for j in listing["jobs"]) == ["one.mp4", "two.mov"], listing
            status, picked = await call(
                http,
                platform,
                "POST",
                "/ondemand/ingest/folder",
                json={
                    "sourceGoogleDriveFiles": [
                        {"fileId": two, "fileName": "two.mov", "mimeType": "video/quicktime", "credentialId": cid},
                        {"fileId": "readme", "fileName": "readme.txt", "mimeType": "text/plain", "credentialId": cid},
                        {"fileId": one, "fileName": "one.mp4", "credentialId": cid},
                    ],
                    "externalIdPrefix": "picked",
                    "maxFiles": 1,
                },
            )
            answers.append(json.dumps(picked))
            assert status == 200 and picked["jobs"] == [
                {"jobId": picked["jobs"][0]["jobId"], "externalId": "picked:two.mov", "fileName": "two.mov"}
            ], picked
            status, encoded = await call(
                http,
                platform,
                "POST",
                "/ondemand/encode",
                json={
                    "sourceUrl": f"{source_server}/media/hd.mp4",
                    "resolution": "480p",
                    "outputGoogleDrive": {"folderId": target, "fileName": "from-url.mp4", "credentialId": cid},
                },
            )
            answers.append(json.dumps(encoded))
            assert status == 200, encoded
            for job_id in [j["jobId"] for j in listing["jobs"] + picked["jobs"]] + [encoded["jobId"]]:
                final, _ = await follow(http, platform.base_url, platform.admin_key, job_id)
                answers.append(repr(final))
                assert final["status"] == "success", final
        caplog.set_level(logging.WARNING)
    names = sorted(f.name for f in drive.children(target))
    assert names == ["from-url.mp4", "one-480p.mp4", "two-480p.mp4"], names
    assert all(f.content for f in drive.children(target))
    assert drive.accounts.grants > grants  # tokens were minted from the key, not handed in

    places = haystacks(logs=caplog.text, spans=spans, bus=bus, answers=answers, data_dir=platform.data_dir)
    body = "".join(str(key["private_key"]).splitlines()[1:-1])  # the key's base64, wherever it might be cut
    assert_nowhere((body[100:160], body[-120:-60]), places, "the service account key")


async def test_credential_references_are_checked_at_submit(
    platform: Platform, drive: DriveFake, source_server: str
) -> None:
    key = drive.accounts.create()
    folder = drive.add_folder("out", readers=frozenset({str(key["client_email"])}))
    other = await platform.new_key(email="neighbour@example.com")
    async with aiohttp.ClientSession() as http:
        _, mine = await call(http, platform, "POST", ROUTE, json={"name": "Robot", "serviceAccount": key})
        _, theirs = await call(http, platform, "POST", ROUTE, other, json={"name": "Theirs", "serviceAccount": key})
        disabled_key = drive.accounts.create()
        _, disabled = await call(http, platform, "POST", ROUTE, json={"name": "Off", "serviceAccount": disabled_key})
        drive.accounts.disable(str(disabled_key["client_email"]))
        _, gone = await call(http, platform, "POST", ROUTE, json={"name": "Gone", "serviceAccount": key})
        await call(http, platform, "DELETE", f"{ROUTE}/{gone['id']}")
        hidden = drive.add_folder("not shared", readers=frozenset({"alice"}))

        def encode(output: dict[str, Any]) -> dict[str, Any]:
            return {"sourceUrl": f"{source_server}/media/hd.mp4", "outputGoogleDrive": {"fileName": "x.mp4", **output}}

        cases: list[tuple[dict[str, Any], int, str]] = [
            (encode({"folderId": folder, "credentialId": theirs["id"]}), 404, "not_found"),
            (encode({"folderId": folder, "credentialId": gone["id"]}), 404, "not_found"),
            (encode({"folderId": folder, "credentialId": "not-a-uuid"}), 400, "invalid_body"),
            (encode({"folderId": folder, "credentialId": mine["id"], "accessToken": "ya29.x"}), 400, "invalid_body"),
            (encode({"folderId": folder, "credentialId": disabled["id"]}), 401, "google_drive_not_connected"),
            (encode({"folderId": hidden, "credentialId": mine["id"]}), 403, "storage_access_denied"),
            (encode({"folderId": folder}), 401, "google_drive_not_connected"),
        ]
        for body, expected, code in cases:
            status, answer = await call(http, platform, "POST", "/ondemand/encode", json=body)
            assert (status, answer.get("code")) == (expected, code), (body, answer)
        picked = [{"fileId": "abc", "fileName": "a.txt", "credentialId": mine["id"]}]
        status, answer = await call(
            http, platform, "POST", "/ondemand/ingest/folder", json={"sourceGoogleDriveFiles": picked}
        )
        assert (status, answer.get("code")) == (404, "no_video_files_found"), answer
        picked = [{"fileId": "missing", "fileName": "a.mp4", "credentialId": mine["id"]}]
        status, answer = await call(
            http, platform, "POST", "/ondemand/ingest/folder", json={"sourceGoogleDriveFiles": picked}
        )
        assert (status, answer.get("code")) == (404, "storage_not_found"), answer
        status, answer = await call(
            http, platform, "POST", "/ondemand/ingest/folder", json={"sourceGoogleDriveFiles": []}
        )
        assert (status, answer.get("code")) == (400, "invalid_body"), answer
