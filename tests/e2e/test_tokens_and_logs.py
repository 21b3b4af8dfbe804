"""Credits over HTTP (/tokens/*) and the Media API's job list filters, logs and delete."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import aiohttp

from tests.e2e.test_classic import Api
from tests.harness import Platform

CLASSIC = {"codec": "h264", "resolution": "480p", "fps": 30}


async def test_reserve_release_deduct_and_their_refusals(platform: Platform) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http, platform.base_url, platform.admin_key)
        job_id = (await api.call("POST", "/jobs", json=CLASSIC))["jobId"]

        held = await api.call("POST", "/tokens/reserve", json={"jobId": job_id, "amount": 10})
        assert held["ok"] is True and held["amount"] == 10
        assert held["balance"]["available"] == 590 and held["balance"]["reserved"] == 10
        back = await api.call("POST", "/tokens/release", json={"jobId": job_id, "amount": 4})
        assert back["amount"] == 4 and back["balance"]["reserved"] == 6
        spent = await api.call("POST", "/tokens/deduct", json={"jobId": job_id, "amount": 2})
        assert spent["amount"] == 2 and spent["balance"] == {**spent["balance"], "available": 598, "reserved": 0}

        short = await api.call("POST", "/tokens/reserve", 402, json={"jobId": job_id, "amount": 10**6})
        assert short["code"] == "insufficient_tokens" and short["required"] == 10**6 and short["available"] == 598
        zero = await api.call("POST", "/tokens/reserve", 400, json={"jobId": job_id, "amount": 0})
        assert zero["code"] == "invalid_body"
        text = await api.call("POST", "/tokens/reserve", 400, json={"jobId": job_id, "amount": "5"})
        assert text["code"] == "invalid_body"  # strict types: a string is not an integer

        # Another account's job is a missing one; a read-only key cannot move credits.
        other = Api(http, platform.base_url, await platform.new_key(email="other@example.com"))
        missing = await other.call("POST", "/tokens/reserve", 404, json={"jobId": job_id, "amount": 1})
        assert missing["code"] == "not_found"
        reader = Api(http, platform.base_url, await platform.new_key(email="r@example.com", scopes=("tokens:read",)))
        assert (await reader.call("GET", "/tokens/balance"))["available"] == 600
        refused = await reader.call("POST", "/tokens/reserve", 403, json={"jobId": job_id, "amount": 1})
        assert refused["code"] == "missing_required_scope" and refused["requiredScope"] == "tokens:write"
        assert (await api.call("GET", "/tokens/balance"))["available"] == 598  # nothing moved


async def test_media_list_filters_cursor_logs_and_delete(platform: Platform, source_server: str) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http, platform.base_url, platform.admin_key)
        ids = []
        for n in range(5):
            ids.append((await api.call("POST", "/jobs", json={**CLASSIC, "externalId": f"e-{n % 2}"}))["jobId"])
        newest_first = list(reversed(ids))

        page = await api.call("GET", "/api/v1/jobs?items_per_page=2")
        assert [j["id"] for j in page["data"]["items"]] == newest_first[:2]
        seen, cursor = [], page["data"]["pagination"]["next_cursor"]
        seen += [j["id"] for j in page["data"]["items"]]
        while cursor:
            page = await api.call("GET", f"/api/v1/jobs?items_per_page=2&cursor={cursor}")
            seen += [j["id"] for j in page["data"]["items"]]
            cursor = page["data"]["pagination"]["next_cursor"]
        assert seen == newest_first

        evens = await api.call("GET", "/api/v1/jobs?external_id=e-0")
        assert {j["id"] for j in evens["data"]["items"]} == {ids[0], ids[2], ids[4]}
        future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        assert (await api.call("GET", f"/api/v1/jobs?created_after={future}"))["data"]["items"] == []
        assert len((await api.call("GET", f"/api/v1/jobs?created_before={future}"))["data"]["items"]) == 5
        bad = await http.get(f"{platform.base_url}/api/v1/jobs?created_after=yesterday", headers=api.headers)
        assert bad.status == 400 and (await bad.json())["error"]["code"] == "VALIDATION_ERROR"
        assert (await api.call("GET", "/api/v1/jobs?cursor=bm90LWEtY3Vyc29y", 400))["success"] is False

        # A job that ran: its log tells the story, from every service that touched it.
        done_id = (
            await api.call(
                "POST", "/jobs", json={**CLASSIC, "confirm": True, "sourceUrl": f"{source_server}/media/silent.mp4"}
            )
        )["jobId"]
        assert (await api.wait(done_id))["status"] == "success"
        logs = (await api.call("GET", f"/api/v1/jobs/{done_id}/logs"))["data"]
        messages = [entry["message"] for entry in logs["logs"]]
        assert messages[0] == "Job queued" and messages[-1] == "Encoding finished", messages
        assert "Transcoding to h264 480p mp4" in messages and "Output stored" in messages  # by the encoder
        assert logs["total_logs"] == len(messages) and logs["has_more"] is False
        assert all(e["timestamp"].endswith("Z") and e["level"] in ("DEBUG", "INFO") for e in logs["logs"])
        first = (await api.call("GET", f"/api/v1/jobs/{done_id}/logs?limit=1&offset=1"))["data"]
        assert [e["message"] for e in first["logs"]] == messages[1:2] and first["has_more"] is True
        warnings = (await api.call("GET", f"/api/v1/jobs/{done_id}/logs?level=warning"))["data"]
        assert warnings["logs"] == [] and warnings["total_logs"] == 0
        assert (await api.call("GET", f"/api/v1/jobs/{done_id}/logs?level=LOUD", 400))["success"] is False
        assert (await api.call("GET", f"/api/v1/jobs/{done_id}/logs?limit=1001", 400))["success"] is False

        # Delete: 409 while a job may run; a finished one leaves every list.
        busy = await api.call("DELETE", f"/api/v1/jobs/{ids[0]}", 409)
        assert busy["error"]["code"] == "CONFLICT"
        gone = await api.call("DELETE", f"/api/v1/jobs/{done_id}")
        assert gone["success"] is True and gone["data"]["deleted"] is True
        listed = await api.call("GET", "/api/v1/jobs")
        assert done_id not in {j["id"] for j in listed["data"]["items"]}
        assert (await api.call("GET", f"/api/v1/jobs/{done_id}", 404))["error"]["code"] == "RESOURCE_NOT_FOUND"
        assert (await api.call("GET", f"/api/v1/jobs/{uuid.uuid4()}/logs", 404))["success"] is False
