"""Links the gateway hands out are built from its configured or bound address, never the request's Host."""

from __future__ import annotations

import aiohttp

from tests.harness import Platform

EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


async def test_a_forged_host_does_not_reach_links(edge: Platform) -> None:
    headers = {"X-API-Key": edge.admin_key} | EVIL
    form = aiohttp.FormData()
    form.add_field("file", b"\x00" * 64, filename="a.bin", content_type="application/octet-stream")
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{edge.base_url}/jobs", json={"codec": "h264", "resolution": "480p", "fps": 30}, headers=headers
        ) as resp:
            created = await resp.json()
            assert resp.status == 200, created
        async with http.post(f"{edge.base_url}/api/v1/files/upload", data=form, headers=headers) as resp:
            uploaded = await resp.json()
            assert resp.status == 200, uploaded
        file_id = uploaded["data"]["id"]
        async with http.post(f"{edge.base_url}/api/v1/files/{file_id}/signed-url", headers=headers) as resp:
            signed = await resp.json()
            assert resp.status == 200, signed
    for link in (created["upload"]["url"], signed["data"]["url"]):
        assert link.startswith(edge.base_url + "/"), link
        assert "evil" not in link
