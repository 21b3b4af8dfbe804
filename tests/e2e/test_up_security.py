"""`vidkiln up` keeps its data to its user: an owner-only data directory, an embedded NATS that wants its token."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from tests.e2e.helpers import follow, submit
from tests.e2e.test_up import VIDKILN, start_up, stop
from tests.harness import free_port
from tests.security import assert_refused, loose_modes


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDKILN_")} | {"VIDKILN_DATA_DIR": str(data_dir)}
    return subprocess.run([VIDKILN, *args], env=env, capture_output=True, text=True, timeout=60)


async def test_the_data_dir_is_owner_only_and_nats_refuses_clients_without_the_token(
    tmp_path: Path, source_server: str
) -> None:
    data_dir = tmp_path / "data"
    # Left by an earlier version: the directory, a subdirectory and a stale runtime file open to everyone.
    data_dir.mkdir(mode=0o755)
    (data_dir / "blobs").mkdir(mode=0o755)
    (data_dir / "runtime.json").write_text("{}")
    for path, mode in ((data_dir, 0o755), (data_dir / "blobs", 0o755), (data_dir / "runtime.json", 0o644)):
        path.chmod(mode)  # whatever the umask of this test

    up = await start_up(data_dir, free_port())
    outputs = []
    try:
        assert up.admin_key
        warning = [line for line in up.log.read_text().splitlines() if "WARNING" in line and str(data_dir) in line]
        assert warning, "no warning named the data directory it tightened"

        url = json.loads((data_dir / "runtime.json").read_text())["nats_url"]
        parts = urlsplit(url)
        secret = parts.password or parts.username
        assert secret and len(secret) >= 32, "the embedded NATS has no credentials"
        bare = f"nats://{parts.hostname}:{parts.port}"
        for refused in (bare, f"nats://{'0' * len(secret)}@{parts.hostname}:{parts.port}"):
            await assert_refused(refused)

        # The platform works end to end: every service reaches NATS with the token.
        async with aiohttp.ClientSession() as http:
            created = await submit(http, up.url, up.admin_key, {"sourceUrl": f"{source_server}/media/silent.mp4"})
            final, _ = await follow(http, up.url, up.admin_key, created["jobId"], timeout=60, every=0.2)
            assert final["status"] == "success"
            async with http.get(final["downloadUrl"]) as r:
                assert r.status == 200 and len(await r.read()) > 1000

            # `vidkiln keys revoke` finds the running platform through the runtime file, token and all.
            raw = cli(data_dir, "keys", "create", "--name", "short-lived")
            assert raw.returncode == 0, raw.stderr
            key_id = next(
                line.split()[0] for line in cli(data_dir, "keys", "list").stdout.splitlines() if "short-lived" in line
            )
            revoked = cli(data_dir, "keys", "revoke", key_id)
            outputs += [raw.stderr, revoked.stdout, revoked.stderr]
            assert "the running platform dropped it" in revoked.stderr, revoked.stderr

        assert loose_modes(data_dir) == []  # SQLite with its -wal and -shm, blobs, NATS's store, while running
    finally:
        assert await stop(up) < 10
    assert up.process.stdout is not None
    outputs.append((await up.process.stdout.read()).decode())
    assert loose_modes(data_dir) == []
    for text in (up.log.read_text(), *outputs):
        assert secret not in text


async def test_a_first_run_creates_the_data_dir_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"  # not there yet
    up = await start_up(data_dir, free_port())
    try:
        assert up.admin_key
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    finally:
        assert await stop(up, signal.SIGINT) < 10
    assert "open to other users" not in up.log.read_text()
    assert loose_modes(data_dir) == []
