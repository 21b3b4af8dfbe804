"""The embedded NATS config `vidkiln up` writes: owner-only, a fresh token at every start, refused without it."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import nats

from services.cli.natsd import nats_binary, write_nats_config
from tests.harness import free_port, wait_tcp
from tests.security import assert_refused


def test_the_config_is_owner_only_and_the_token_new_at_every_start(tmp_path: Path) -> None:
    (tmp_path / "nats").mkdir()
    (tmp_path / "nats" / "nats.conf").write_text("left by an earlier version")
    (tmp_path / "nats" / "nats.conf").chmod(0o644)

    first = write_nats_config(tmp_path, 4222)
    assert stat.S_IMODE(first.config.stat().st_mode) == 0o600
    token = urlsplit(first.url).username
    assert token and len(token) == 64 and f'token: "{token}"' in first.config.read_text()
    assert token not in repr(first)
    assert urlsplit(write_nats_config(tmp_path, 4222).url).username != token
    checked = subprocess.run([nats_binary(), "-t", "-c", str(first.config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


async def test_the_server_refuses_clients_without_the_token(tmp_path: Path) -> None:
    port = free_port()
    embedded = write_nats_config(tmp_path, port)
    with subprocess.Popen([nats_binary(), "-c", str(embedded.config)], stderr=subprocess.DEVNULL) as server:
        try:
            wait_tcp(port)
            await assert_refused(f"nats://127.0.0.1:{port}")
            await assert_refused(f"nats://{'0' * 64}@127.0.0.1:{port}")
            nc = await nats.connect(embedded.url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
            try:
                await nc.jetstream().account_info()
            finally:
                await nc.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
