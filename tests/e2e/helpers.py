"""HTTP helpers for end-to-end tests."""

from __future__ import annotations

import asyncio
import struct
import time
from pathlib import Path
from typing import Any

import aiohttp

TERMINAL = {"success", "failed", "canceled"}


async def submit(http: aiohttp.ClientSession, base: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(f"{base}/ondemand/encode", json=body, headers={"X-API-Key": key}) as resp:
        payload: dict[str, Any] = await resp.json()
        assert resp.status == 200, payload
        return payload


async def follow(
    http: aiohttp.ClientSession, base: str, key: str, job_id: str, *, timeout: float = 90.0, every: float = 0.05
) -> tuple[dict[str, Any], list[tuple[str, float | None]]]:
    """Polls the status until terminal; returns the last answer and every (status, progress) seen."""
    seen: list[tuple[str, float | None]] = []
    deadline = time.monotonic() + timeout
    while True:
        async with http.get(f"{base}/ondemand/status/{job_id}", headers={"X-API-Key": key}) as resp:
            status: dict[str, Any] = await resp.json()
            assert resp.status == 200, status
        seen.append((status["status"], status["progress"]))
        if status["status"] in TERMINAL:
            return status, seen
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {status['status']}")
        await asyncio.sleep(every)


def top_level_atoms(path: Path) -> list[str]:
    """The MP4's top-level box names in file order."""
    names = []
    with open(path, "rb") as f:
        while header := f.read(8):
            size, name = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0] - 8
            names.append(name.decode("latin-1"))
            f.seek(size - 8, 1)
    return names
