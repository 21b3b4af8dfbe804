"""The credit routes cannot make an encode free: a caller moves only what it reserved itself."""

from __future__ import annotations

import aiohttp

from tests.e2e.helpers import follow, submit
from tests.e2e.test_classic import Api
from tests.harness import Platform


async def test_releasing_the_platforms_reservation_or_reserving_around_it_costs_the_job_nothing(
    platform: Platform, source_server: str
) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(http, platform.base_url, platform.admin_key)
        start = await api.call("GET", "/tokens/balance")
        job = await submit(
            http,
            platform.base_url,
            platform.admin_key,
            {"sourceUrl": f"{source_server}/long/long.mp4", "resolution": "1080p"},
        )
        estimate = job["pricing"]["totalNeu"]
        # What the probe found: the attack of the report, in order.
        refused = await api.call("POST", "/tokens/release", 400, json={"jobId": job["jobId"], "amount": 10**9})
        assert refused["code"] == "invalid_request"
        other = (await api.call("POST", "/jobs", json={"codec": "h264", "resolution": "480p", "fps": 30}))["jobId"]
        balance = await api.call("GET", "/tokens/balance")
        whole = int(balance["available"])
        held = await api.call("POST", "/tokens/reserve", json={"jobId": other, "amount": whole})
        assert held["balance"]["available"] == 0
        await api.call("POST", "/tokens/deduct", 400, json={"jobId": job["jobId"], "amount": 1})

        done, _ = await follow(http, platform.base_url, platform.admin_key, job["jobId"])
        assert done["status"] == "success", done
        charged = done["billingSummary"]["chargedNeu"]
        assert charged >= estimate > 0  # charged from the reservation the platform made for it
        await api.call("POST", "/tokens/release", 400, json={"jobId": job["jobId"], "amount": 10**9})
        back = await api.call("POST", "/tokens/release", json={"jobId": other, "amount": 10**9})
        assert back["amount"] == whole  # never more than was reserved
        end = await api.call("GET", "/tokens/balance")
        assert end["reserved"] == 0
        assert end["available"] == start["available"] - charged
