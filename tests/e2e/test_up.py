"""`vidkiln up`: the whole platform as supervised processes, as a new user starts it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.e2e.helpers import follow, submit
from tests.harness import free_port

VIDKILN = str(Path(sys.executable).parent / "vidkiln")


@dataclass
class Instance:
    process: asyncio.subprocess.Process
    url: str
    admin_key: str | None
    log: Path

    def children(self) -> dict[int, str]:
        """pid -> command line of the supervisor's child processes."""
        pid = self.process.pid
        found = {}
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:  # a thread, or a child, may end while we look
                for child in (task / "children").read_text().split():
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                    found[int(child)] = cmdline
            except FileNotFoundError:
                continue
        return found

    def pid_of(self, module: str) -> int | None:
        return next((pid for pid, cmd in self.children().items() if f"-m {module}" in cmd), None)


async def start_up(data_dir: Path, port: int) -> Instance:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDKILN_")}
    env |= {"VIDKILN_DATA_DIR": str(data_dir), "VIDKILN_HTTP_PORT": str(port), "VIDKILN_URL_ALLOW": "127.0.0.1"}
    log = data_dir.with_suffix(".log")
    with open(log, "ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            VIDKILN, "up", env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr
        )
    assert process.stdout is not None
    url, key = None, None
    deadline = time.monotonic() + 90
    while url is None:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=deadline - time.monotonic())).decode()
        assert line, f"vidkiln up exited early; see {log}"
        if match := re.match(r"vidkiln is up: (\S+)", line):
            url = match.group(1)
            # The key, when there is one, is printed right after the URL.
            nxt = (await asyncio.wait_for(process.stdout.readline(), timeout=5)).decode()
            if found := re.search(r"(cvr_\S+)", nxt):
                key = found.group(1)
    return Instance(process, url, key, log)


async def stop(instance: Instance, sig: int = signal.SIGTERM) -> float:
    """Signals the supervisor; returns how long the whole platform took to stop."""
    children = list(instance.children())
    started = time.monotonic()
    instance.process.send_signal(sig)
    assert await asyncio.wait_for(instance.process.wait(), timeout=15) == 0
    elapsed = time.monotonic() - started
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    return elapsed


async def test_two_platforms_side_by_side_restart_crashed_children_and_stop_cleanly(
    tmp_path: Path, source_server: str
) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a_dir.mkdir()
    b_dir.mkdir()
    # One after the other: `vidkiln up` picks free ports for its children before they bind them, so two
    # started in the same instant can pick the same one (a known race, noted in the README).
    a = await start_up(a_dir, free_port())
    b = await start_up(b_dir, free_port())
    try:
        assert a.admin_key and b.admin_key and a.admin_key != b.admin_key
        assert (a_dir / "secret.key").stat().st_mode & 0o777 == 0o600
        async with aiohttp.ClientSession() as http:
            for inst, other in ((a, b), (b, a)):
                async with http.get(f"{inst.url}/api/v1/jobs", headers={"X-API-Key": inst.admin_key or ""}) as r:
                    assert r.status == 200
                async with http.get(f"{inst.url}/api/v1/jobs", headers={"X-API-Key": other.admin_key or ""}) as r:
                    assert r.status == 401  # separate platforms, separate keys

            created = await submit(http, a.url, a.admin_key or "", {"sourceUrl": f"{source_server}/media/silent.mp4"})
            final, _ = await follow(http, a.url, a.admin_key or "", created["jobId"], timeout=60, every=0.2)
            assert final["status"] == "success"
            async with http.get(final["downloadUrl"]) as r:
                assert r.status == 200 and len(await r.read()) > 1000
            # The first run grants the admin its credits (the 1 s job cost 1 of them).
            async with http.get(f"{a.url}/tokens/balance", headers={"X-API-Key": a.admin_key or ""}) as r:
                assert (await r.json())["available"] == 999_999

        encoder = a.pid_of("services.encoder")
        assert encoder is not None
        os.kill(encoder, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while a.pid_of("services.encoder") in (None, encoder):
            assert time.monotonic() < deadline, "the supervisor did not restart the encoder"
            await asyncio.sleep(0.2)
        assert "encoder exited with -9; restarting" in a.log.read_text()
    finally:
        assert await stop(a) < 10
        assert await stop(b, signal.SIGINT) < 10

    again = await start_up(a_dir, free_port())
    try:
        assert again.admin_key is None  # shown once, on the first run only
    finally:
        assert await stop(again) < 10
